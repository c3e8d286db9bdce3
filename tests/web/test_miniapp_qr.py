"""The Mini App's QR: an SVG of exactly the modules the chat's card PNG draws."""
from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings, strategies as st

from bot.services.verification import credential_url
from bot.card_image import _make_qr, _with_quiet_zone, qr_svg


def _modules_of(svg: str) -> np.ndarray:
    side = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    drawn = np.zeros((side, side), dtype=np.uint8)
    for x, y, n in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        drawn[int(y), int(x):int(x) + int(n)] = 1
    return drawn


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=240))
def test_the_svg_draws_every_dark_module_and_nothing_else(token: str) -> None:
    url = credential_url("https://hc.example.cn", token)
    svg = qr_svg(url)
    assert "<script" not in svg and svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert np.array_equal(_modules_of(svg), _with_quiet_zone(_make_qr(url)))
