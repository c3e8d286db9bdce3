"""What a feature declares: its commands, buttons, flows and content, and who may use each.

Each feature module exposes one ``FEATURE``; ``bot.services.conversation`` lists them and
``bot.services.dispatcher`` routes every update to them, enforcing each entry's requirement
(``bot.services.access``) before its handler runs. Adding a feature is one module and one line.

A flow (``Flow``) is a state machine held in our own table, read on every update: its steps in order,
what each step asks, the typed answer it takes (``text``) and the buttons it accepts (``presses``),
next to a typed draft (a pydantic model) that carries the answers between updates.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from bot.replies import Text
from bot.services.access import ANYONE, Requirement
from bot.services.callbacks import CallbackData
from bot.services.context import Turn

Data = TypeVar("Data", bound=CallbackData)
DraftT = TypeVar("DraftT", bound="Draft")

CommandHandler = Callable[[Turn, list[str]], Awaitable[None]]
# Non-text content (photo, document, …): handler gets the kind and the picture, already downloaded and
# decoded before the unit of work opened (bot.services.checkpoint.receive).
ContentHandler = Callable[[Turn, str, "Picture"], Awaitable[bool]]
StepAction = Callable[[Turn], Awaitable[None]]
TextAnswer = Callable[[Turn, str], Awaitable[None]]


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
    # Telegram's id of the file, so it can be sent on again (a correction's evidence) without keeping it.
    file_id: str | None = None

    @property
    def readable(self) -> bool:
        return self.content is not None and self.problem is None


class Draft(BaseModel):
    """A flow's answers so far. Stored as JSON (sealed at rest) between updates; unknown keys are
    refused so a renamed field cannot be silently dropped."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


@dataclass(frozen=True)
class Command:
    name: str
    run: CommandHandler
    requires: Requirement[Any] = ANYONE


@dataclass(frozen=True)
class Press(Generic[Data]):
    """A button family and what pressing it does."""

    family: type[Data]
    run: Callable[[Turn, Data], Awaitable[None]]
    requires: Requirement[Any] = ANYONE


@dataclass(frozen=True)
class Content:
    kind: str  # "photo", "document", …
    run: ContentHandler
    requires: Requirement[Any] = ANYONE
    # Set: taken only from someone in this flow (a broadcast's picture), before any other taker.
    flow: str | None = None


@dataclass(frozen=True)
class DeepLink:
    """``/start PREFIXpayload`` from a t.me link; ``run`` gets the payload after the prefix."""

    prefix: str
    run: Callable[[Turn, str], Awaitable[None]]
    requires: Requirement[Any] = ANYONE


@dataclass(frozen=True)
class Step:
    name: str
    ask: StepAction  # (re)asks this step's question
    text: TextAnswer | None = None  # a typed answer; without it, text gets "use the buttons" and the question again
    presses: tuple[Press[Any], ...] = ()
    content: tuple[Content, ...] = ()  # e.g. a photo the step asks for


@dataclass(frozen=True)
class Flow(Generic[DraftT]):
    name: str
    draft: type[DraftT]
    steps: tuple[Step, ...]
    requires: Requirement[Any] = ANYONE
    # Buttons that work at any step of the flow (start over, cancel).
    anytime: tuple[Press[Any], ...] = ()

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def after(self, name: str) -> str:
        names = [step.name for step in self.steps]
        return names[names.index(name) + 1]


@dataclass(frozen=True)
class Feature:
    name: str
    commands: tuple[Command, ...] = ()
    presses: tuple[Press[Any], ...] = ()
    flows: tuple[Flow[Any], ...] = ()
    content: tuple[Content, ...] = ()
    deep_links: tuple[DeepLink, ...] = ()
    # Commands shown in Telegram's menu, in order (others still work; administrators' stay hidden).
    menu: tuple[str, ...] = ()
    # Lines added to /help for those allowed to use them.
    help: Callable[[Turn], Awaitable[Text | None]] | None = None
