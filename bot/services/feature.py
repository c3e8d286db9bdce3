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
# Non-text content (photo, document, …): handler gets the kind and a downloader for the file.
ContentHandler = Callable[[Turn, str, "FileSource"], Awaitable[bool]]


class FileSource(Protocol):
    async def read(self, max_bytes: int) -> bytes | None:
        """The file's bytes, or None when it is larger than ``max_bytes``."""
        ...


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
