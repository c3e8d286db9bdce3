"""What recipients of each kind of campaign see: made at send time, per recipient."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.replies import Reply
from bot.services.context import Services
from storage.records import Campaign, DeliveryRecord
from storage.unit_of_work import UnitOfWork

Renderer = Callable[[Services, Campaign, DeliveryRecord, UnitOfWork], Awaitable[Reply | None]]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    """What recipients of campaigns of ``kind`` see; called at send time inside the claim's transaction.

    Return None to skip the recipient (recorded as ``skipped``).
    """
    _RENDERERS[kind] = renderer


def renderer_for(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


# Renderers ask for their recipient's language under this name; it is the one lookup, not another.


__all__ = ["Renderer", "register_renderer", "renderer_for"]
