"""One limiter for everything the bot sends to Telegram: chat replies and bulk delivery share it.

Telegram counts per bot, on arrival, and a 429 RetryAfter means "nothing more from you until
retry_after has passed". So, over every rolling window (sliding windows of real times, not a
token bucket, so an idle moment never turns into a burst):

* at most ``total`` requests in all (Telegram's ~30 messages/s per bot);
* at most ``bulk_rate`` bulk messages (broadcasts, reminders, notices), evenly paced;
* at most one bulk message per chat;
* after a 429, nothing at all until the pause is over. Only the clock ends a pause: a request that
  finishes, or one that succeeds, does not.

**A request is counted from when it leaves until its answer is back, and a second beyond.**
Telegram counts on arrival, after a delay that varies (the network; on a busy machine, our own event
loop between this limiter and the socket: measured here up to 0.5 s). Counting send times alone,
requests sent 1.1 s apart can arrive 0.6 s apart. But a request arrives somewhere between leaving and
its answer coming back, so a request whose answer came back at least a second ago cannot share any
second of Telegram's with one leaving now, whatever the delays. The price is the round trip: a slot
is busy for one second plus it (at a 50 ms round trip, 30 per 1.05 s).

**Chat replies first.** While a reply waits for room, bulk takes no new slot, so a person's answer
waits at most for a slot to free (tens of milliseconds), never behind a broadcast's queue.

**Bulk reserves before it claims.** The delivery worker takes a :class:`BulkTicket` before it claims
a row, so a claimed row is never held through a pause or a full window. If a pause begins between
the reservation and the send, the send is held back (:class:`SendHeldBack`) and the row goes back
to pending, unsent. The ticket's send leaves through :meth:`admit_bulk`.

The limiter is for one event loop (one process). With several bot processes, one sends bulk at a
time (storage.leadership.Leadership).
"""
from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bot.clock import monotonic_seconds

TELEGRAM_MESSAGES_PER_SECOND = 30
WINDOW_SECONDS = 1.0
# Waiters look again at least this often: a safety net, since every change also wakes them.
_LONGEST_NAP = 1.0
_CHAT_MEMORY = 10_000  # forget per-chat send times once this many chats are remembered (and stale)

ChatKey = int | str


class SendHeldBack(Exception):
    """A reserved bulk send was not made (a 429 pause began, or the worker is stopping): nothing left."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"held back for {seconds:.1f} s" if seconds > 0 else "held back: stopping")
        self.seconds = seconds


class _Window:
    """Requests answered within the last ``span`` seconds, and how long until one more fits."""

    __slots__ = ("limit", "span", "stamps")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.stamps: deque[float] = deque()

    def delay(self, now: float, busy: int) -> float:
        """Seconds until one more fits, counting ``busy`` requests (reserved or in flight) as present
        until further notice (inf: they alone fill it)."""
        while self.stamps and self.stamps[0] <= now - self.span:
            self.stamps.popleft()
        excess = len(self.stamps) + busy - self.limit + 1
        if excess <= 0:
            return 0.0
        if excess > len(self.stamps):
            return math.inf
        return self.stamps[excess - 1] + self.span - now


def _window_for(rate: float) -> _Window:
    """``rate`` per second as "at most n in a window": 25/s is 25 per second, 0.5/s is 1 per 2 s."""
    if rate >= 1:
        return _Window(math.floor(rate), WINDOW_SECONDS)
    return _Window(1, WINDOW_SECONDS / rate)


@dataclass(eq=False)
class BulkTicket:
    """One bulk slot, reserved before the row is claimed; spent by the send, or released."""

    _limiter: OutgoingLimiter
    open: bool = True

    def release(self) -> None:
        """Give the slot back if it was not spent (no row to claim, a skipped recipient, an error)."""
        if self.open:
            self.open = False
            self._limiter._unreserve()


@dataclass(eq=False)
class Permit:
    """One request on its way; :meth:`done` once its answer (or error) is back."""

    _limiter: OutgoingLimiter
    chat: ChatKey | None  # the chat of a bulk message; None for anything else
    bulk: bool
    open: bool = True

    def done(self) -> None:
        if self.open:
            self.open = False
            self._limiter._finish(self)


@dataclass(frozen=True, slots=True)
class _BulkContext:
    ticket: BulkTicket | None
    stopping: asyncio.Event | None


_BULK: ContextVar[_BulkContext | None] = ContextVar("healthcode_bulk_send", default=None)


@contextmanager
def bulk_send(ticket: BulkTicket | None, stopping: asyncio.Event | None = None) -> Iterator[None]:
    """Mark the requests made inside as bulk, to be sent on ``ticket`` (a task-local mark)."""
    token = _BULK.set(_BulkContext(ticket, stopping))
    try:
        yield
    finally:
        _BULK.reset(token)


def current_bulk() -> _BulkContext | None:
    """The bulk send this task is making, or None for a chat reply (or any other request)."""
    return _BULK.get()


class OutgoingLimiter:
    def __init__(self, *, bulk_rate: float, total: int | None = TELEGRAM_MESSAGES_PER_SECOND) -> None:
        """``total=None`` limits bulk only (a worker whose bot has no limiter on its wire: local runs)."""
        if bulk_rate <= 0:
            raise ValueError("bulk_rate: must be positive (messages per second)")
        self.bulk_rate = bulk_rate
        self._bulk = _window_for(bulk_rate)
        self._all = _Window(total, WINDOW_SECONDS) if total else None
        # Even pacing inside the windows: the stricter of the bulk rate and the total.
        self._bulk_interval = max(self._bulk.span / self._bulk.limit,
                                  self._all.span / self._all.limit if self._all else 0.0)
        self._next_bulk = -math.inf
        self._last_bulk_to: dict[ChatKey, float] = {}  # when the chat's last bulk answer came back
        self._bulk_in_flight_to: set[ChatKey] = set()
        self._reserved = 0  # bulk tickets held, not yet sent
        self._in_flight = 0
        self._bulk_in_flight = 0
        self._replies_waiting = 0
        self._paused_until = -math.inf
        self._changed = asyncio.Event()

    # --- pauses ------------------------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing leaves, from anyone, for ``seconds`` from now."""
        self._paused_until = max(self._paused_until, monotonic_seconds() + seconds)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - monotonic_seconds())

    # --- admission ---------------------------------------------------------------------------

    async def admit_reply(self) -> Permit:
        """Wait for room for a request that is not bulk (a chat reply, getMe, …)."""
        self._replies_waiting += 1
        try:
            await self._wait(self._reply_delay, None)
        finally:
            self._replies_waiting -= 1
            self._notify()
        return self._leave(None)

    async def reserve_bulk(self, stopping: asyncio.Event | None = None) -> BulkTicket | None:
        """Wait for a bulk slot and hold it (None if ``stopping`` was set meanwhile)."""
        if not await self._wait(self._bulk_delay, stopping):
            return None
        self._next_bulk = monotonic_seconds() + self._bulk_interval
        self._reserved += 1
        return BulkTicket(self)

    async def admit_bulk(self, chat: ChatKey | None, context: _BulkContext | None = None) -> Permit:
        """Let one bulk request to ``chat`` leave now.

        On an open ticket (its slot already held): raises SendHeldBack if a pause began or the
        worker is stopping, else waits only for the chat's own second. Without one (a second
        message of the same reply), waits for a slot like a reservation, pauses included.
        """
        context = context or current_bulk()
        ticket = context.ticket if context is not None else None
        if context is None or ticket is None or not ticket.open:
            await self._wait(lambda now: max(self._bulk_delay(now), self._chat_delay(chat, now)), None)
            self._next_bulk = monotonic_seconds() + self._bulk_interval
            return self._leave(chat, bulk=True)
        stopping = context.stopping
        while True:
            now = monotonic_seconds()
            if (pause := self._paused_until - now) > 0:
                raise SendHeldBack(pause)
            if stopping is not None and stopping.is_set():
                raise SendHeldBack(0.0)
            if (wait := self._chat_delay(chat, now)) <= 0:
                break
            await self._nap(min(wait, _LONGEST_NAP), stopping)
        ticket.open = False
        self._reserved -= 1
        return self._leave(chat, bulk=True)

    # --- internals ---------------------------------------------------------------------------

    def _busy(self) -> int:
        return self._reserved + self._in_flight

    def _reply_delay(self, now: float) -> float:
        window = self._all.delay(now, self._busy()) if self._all else 0.0
        return max(self._paused_until - now, window)

    def _bulk_delay(self, now: float) -> float:
        if self._replies_waiting:
            return math.inf  # woken when the reply has gone
        windows = [self._bulk.delay(now, self._reserved + self._bulk_in_flight)]
        if self._all is not None:
            windows.append(self._all.delay(now, self._busy()))
        return max(self._paused_until - now, self._next_bulk - now, *windows)

    def _chat_delay(self, chat: ChatKey | None, now: float) -> float:
        if chat is None:
            return 0.0
        if chat in self._bulk_in_flight_to:
            return math.inf  # woken when it is answered
        last = self._last_bulk_to.get(chat)
        return 0.0 if last is None else last + WINDOW_SECONDS - now

    def _leave(self, chat: ChatKey | None, *, bulk: bool = False) -> Permit:
        self._in_flight += 1
        if bulk:
            self._bulk_in_flight += 1
            if chat is not None:
                self._bulk_in_flight_to.add(chat)
        return Permit(self, chat if bulk else None, bulk)

    def _finish(self, permit: Permit) -> None:
        """The answer is back: from now on the request counts for one more window."""
        now = monotonic_seconds()
        self._in_flight -= 1
        if self._all is not None:
            self._all.stamps.append(now)
        if permit.bulk:
            self._bulk_in_flight -= 1
            self._bulk.stamps.append(now)
            if permit.chat is not None:
                self._bulk_in_flight_to.discard(permit.chat)
                self._last_bulk_to[permit.chat] = now
                if len(self._last_bulk_to) > _CHAT_MEMORY:
                    self._last_bulk_to = {c: t for c, t in self._last_bulk_to.items() if t > now - WINDOW_SECONDS}
        self._notify()

    def _unreserve(self) -> None:
        self._reserved -= 1
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, delay_of: Callable[[float], float], stopping: asyncio.Event | None) -> bool:
        """Until ``delay_of(now)`` is 0 (True), or ``stopping`` is set (False).

        Nothing is awaited between the last check and the caller's count, so two waiters can never
        both take the last slot, and a crowd woken at once leaves one by one (no burst after a pause).
        """
        while True:
            now = monotonic_seconds()
            delay = delay_of(now)
            if delay <= 0:
                return True
            if stopping is not None and stopping.is_set():
                return False
            await self._nap(min(delay, _LONGEST_NAP), stopping)

    async def _nap(self, seconds: float, stopping: asyncio.Event | None) -> None:
        """Sleep ``seconds``, or less if something changed or the worker is stopping."""
        waits = [asyncio.ensure_future(self._changed.wait())]
        if stopping is not None:
            waits.append(asyncio.ensure_future(stopping.wait()))
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()


__all__ = [
    "TELEGRAM_MESSAGES_PER_SECOND",
    "WINDOW_SECONDS",
    "BulkTicket",
    "OutgoingLimiter",
    "Permit",
    "SendHeldBack",
    "bulk_send",
    "current_bulk",
]
