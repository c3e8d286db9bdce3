"""Card images, cached: the same credential always gives the same PNG, rendered once."""
from __future__ import annotations

from functools import lru_cache

from bot.qr_card import render_card
from rules.model import Colour


@lru_cache(maxsize=1024)
def card_png(url: str, colour: Colour) -> bytes:
    return render_card(url, colour)
