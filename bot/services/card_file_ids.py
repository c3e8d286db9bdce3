"""Telegram's file ids for card images: learnt when a card is sent, written behind.

A reply goes out after its turn's unit of work has committed: no transaction (on SQLite, the one
writer slot) is ever held across a call to Telegram. So the file id that the send returns cannot be
stored in that turn, and opening a unit of work just for it cost ~1.3 ms per fresh card (issue 14
§4), on the morning's main path. Instead the id is kept here, per process, and written later:

* by the person's next code refresh (``status_card.refresh_code``), which reads that credential
  anyway: one UPDATE inside a unit of work that runs regardless, and the card goes out by the id;
* otherwise in batches (``due``): one unit of work for up to ``BATCH`` ids, and at shutdown.

What a crash can lose is only a cache hint, never a credential or a status: the ids learnt since
the last batch. The card is then uploaded again on its next send and that upload's id is learnt
instead; nobody sees a difference. A hint stays until it is seen stored, so a refresh whose turn
rolls back writes it again the next time.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

BATCH = 100  # ids per batched write: one unit of work for many cards
MAX_AGE = timedelta(seconds=10)  # the oldest unwritten id waits at most this long for a batch (when anything is sent)
CAPACITY = 50_000  # ids kept for the next refresh; beyond, the oldest are forgotten (the card is uploaded again)


@dataclass(frozen=True, slots=True)
class LearntFileId:
    """Telegram's id for the card of credential ``cti``; ``replaces`` is the id it refused, if any."""

    cti: str
    file_id: str
    replaces: str | None = None

    def applies_to(self, stored: str | None) -> bool:
        """Should it replace what the credential has stored? Not when another id was stored since
        (another process uploaded too: either id works, so the stored one stays)."""
        return stored != self.file_id and stored in (None, self.replaces)


class CardFileIds:
    """The ids this process learnt and has not seen stored yet."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._hints: dict[str, LearntFileId] = {}  # by cti, oldest first
        self._unwritten: dict[str, datetime] = {}  # cti -> when learnt, for ids no write has carried yet

    def learn(self, learnt: Iterable[LearntFileId], now: datetime) -> None:
        for hint in learnt:
            self._hints.pop(hint.cti, None)
            self._hints[hint.cti] = hint
            self._unwritten[hint.cti] = now
        while len(self._hints) > self._capacity:
            oldest = next(iter(self._hints))
            del self._hints[oldest]
            self._unwritten.pop(oldest, None)

    def hint(self, cti: str) -> LearntFileId | None:
        return self._hints.get(cti)

    def written(self, ctis: Iterable[str]) -> None:
        """A unit of work carries them (it may still roll back: the hints stay until seen stored)."""
        for cti in ctis:
            self._unwritten.pop(cti, None)

    def settled(self, cti: str) -> None:
        """Seen stored (or superseded by another stored id): nothing left to write or to remember."""
        self._hints.pop(cti, None)
        self._unwritten.pop(cti, None)

    def due(self, now: datetime) -> list[LearntFileId]:
        """The ids a batched write should carry now: all unwritten ones once there are ``BATCH`` of
        them or the oldest has waited ``MAX_AGE``; else none."""
        if not self._unwritten:
            return []
        if len(self._unwritten) < BATCH and now - min(self._unwritten.values()) < MAX_AGE:
            return []
        return self.unwritten()

    def unwritten(self) -> list[LearntFileId]:
        # In cti order: two processes writing overlapping batches lock the rows in the same order.
        return [self._hints[cti] for cti in sorted(self._unwritten) if cti in self._hints]
