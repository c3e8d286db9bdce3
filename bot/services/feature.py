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
from typing import Any, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from bot.replies import Text
from bot.services.access import ANYONE, Requirement
from bot.services.callbacks import CallbackData
from bot.services.context import Turn

Data = TypeVar("Data", bound=CallbackData)
Args = TypeVar("Args")
Parsed = TypeVar("Parsed", covariant=True)
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


class Arguments(Protocol[Parsed]):
    """A command's arguments, parsed before its requirement is checked (so the requirement can see them).
    Usually a frozen dataclass whose classmethods these are."""

    def parse(self, args: list[str]) -> Parsed | None:
        """The parsed value, or None when the words do not read; then ``usage`` is the answer."""
        ...

    def usage(self, command: str) -> Text:
        ...


@dataclass(frozen=True)
class Command(Generic[Args]):
    """``/name``. Without ``arguments`` the handler gets the words after the command; with them, the
    parsed value, which ``requires`` sees first (``manager_of(lambda a: a.organisation_id)``)."""

    name: str
    run: Callable[[Turn, Args], Awaitable[None]]
    requires: Requirement[Args] = ANYONE
    arguments: Arguments[Args] | None = None

    def parse(self, args: list[str]) -> Args | None:
        if self.arguments is None:
            return cast(Args, args)  # undeclared: the handler takes the words (Args is list[str])
        return self.arguments.parse(args)

    def usage(self) -> Text | None:
        return None if self.arguments is None else self.arguments.usage(f"/{self.name}")


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
