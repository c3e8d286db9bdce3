"""Whether one update really succeeded.

python-telegram-bot catches every exception a handler raises and hands it to the error handler,
so ``Application.process_update`` returning is no proof that the handler completed or that
Telegram took its replies.  Whoever needs to know (the webhook, which must not acknowledge a
failed update) opens ``tracking(update_id)`` around the processing; the error handler records a
failure for that update through ``record_failure``.  The outcome lives in a context variable, so
concurrent updates, each in its own task, never see each other's.

``tracking(update_id, claim=True)`` (the webhook) also asks the update's own unit of work to claim
its ``update_id`` (``bot.services.context.turn_for``): the claim commits with the turn's writes or
not at all, instead of costing two transactions of its own.  A turn that finds the id claimed
already raises :class:`AlreadyProcessed`, and one that finds a later update of the same person
handled already raises :class:`Superseded`: nothing of either is written or sent.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_current: ContextVar[UpdateOutcome | None] = ContextVar("healthcode_update_outcome", default=None)


class NotRun(Exception):
    """The update's turn did not run, by design (not a failure): it is acknowledged, nothing is sent."""


class AlreadyProcessed(NotRun):
    """This update's id was claimed by an earlier delivery that committed: the turn must not run again."""


class Superseded(NotRun):
    """A later update of the same person was handled already: running this one now would reorder
    their steps (a Confirm pressed before a Change, applied after it), so it is dropped."""


@dataclass(slots=True)
class UpdateOutcome:
    update_id: int
    failure: str | None = None  # the first failure: an exception type name, never a message
    claim: bool = False  # should the update's unit of work claim its id?
    claimed: bool = False  # a unit of work that claimed the id has committed
    duplicate: bool = False  # a unit of work found the id claimed already
    superseded: bool = False  # a unit of work found a later update of the same person handled

    @property
    def succeeded(self) -> bool:
        return self.failure is None


def current() -> UpdateOutcome | None:
    """The outcome tracked in this task, if any."""
    return _current.get()


@contextmanager
def tracking(update_id: int, *, claim: bool = False) -> Iterator[UpdateOutcome]:
    """The outcome of the update processed inside the block (in this task)."""
    outcome = UpdateOutcome(update_id, claim=claim)
    token = _current.set(outcome)
    try:
        yield outcome
    finally:
        _current.reset(token)


def record_failure(update_id: int | None, failure: str) -> None:
    """Mark the tracked update as failed; a no-op when nobody tracks it (polling, the shell)."""
    outcome = _current.get()
    if outcome is not None and outcome.update_id == update_id and outcome.failure is None:
        outcome.failure = failure
