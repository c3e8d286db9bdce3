"""A feature plugs its commands, buttons, flows and content handlers into the dispatcher.

Each feature module exposes one ``FEATURE``; ``bot.services.conversation`` lists
them. Adding a feature is one line there, not edits across the dispatcher.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.replies import Text
from bot.services.context import Turn

CommandHandler = Callable[[Turn, list[str]], Awaitable[None]]
# Callback data is "prefix:action:value"; the handler gets action and value.
ButtonHandler = Callable[[Turn, str, str], Awaitable[None]]
# Non-text content (photo, document, …): handler gets the kind and the picture, already downloaded and
# decoded before the unit of work opened (bot.services.checkpoint.receive).
ContentHandler = Callable[[Turn, str, "Picture"], Awaitable[bool]]


class FileSource(Protocol):
    async def read(self, max_bytes: int) -> bytes | None:
        """The file's bytes, or None when it is larger than ``max_bytes``."""
        ...


@dataclass(frozen=True, slots=True)
class Picture:
    """A received image and what decoding found in it: either QR codes or the reason it is unreadable."""

    content: bytes | None  # None: larger than the download limit, never fetched in full
    codes: tuple[str, ...] = ()
    problem: Text | None = None  # the answer that says why it could not be read

    @property
    def readable(self) -> bool:
        return self.content is not None and self.problem is None


class Flow(Protocol):
    async def on_text(self, turn: Turn, text: str) -> None: ...


@dataclass(frozen=True)
class Feature:
    name: str
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)
    content: dict[str, ContentHandler] = field(default_factory=dict)
    # Commands shown in Telegram's menu (others still work; e.g. admin commands stay hidden).
    menu: tuple[str, ...] = ()
    # Lines added to /help for those allowed to use them.
    help: Callable[[Turn], Awaitable[Text | None]] | None = None
