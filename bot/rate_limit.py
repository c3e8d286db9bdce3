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

**The total may change while it runs** (:meth:`OutgoingLimiter.set_total`), and may lapse at a
given moment: a lowered total holds at once (nothing more leaves until the requests still counted
drain under it), and a lapsed one is 0 (replies wait, never fail; a reserved bulk send is held back).
:meth:`OutgoingLimiter.footprint` says how many requests it may still have counted from now on,
whatever the total becomes later.

The limiter is for one event loop (one process); Telegram's rate is the bot's. With several bot
processes on PostgreSQL, bot.rate_share.RateShare gives each one its share of the total through the
database, sets it here, and lets it lapse if it cannot renew it; a 429 one process sees is recorded
there and paused by the others too. One process sends bulk at a time (storage.leadership.Leadership),
within its share. On SQLite there is one process, and the total is the whole rate.
"""
from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
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
    """A reserved bulk send was not made (a 429 pause began, the worker is stopping, or this process's
    share of the rate lapsed): nothing left."""

    def __init__(self, seconds: float, reason: str | None = None) -> None:
        if reason is None:
            reason = f"held back for {seconds:.1f} s" if seconds > 0 else "held back: stopping"
        super().__init__(reason)
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
    total: int = 0  # the total when it was reserved
    open: bool = True

    def release(self) -> None:
        """Give the slot back if it was not spent (no row to claim, a skipped recipient, an error)."""
        if self.open:
            self.open = False
            self._limiter._unreserve(self)


@dataclass(eq=False)
class Permit:
    """One request on its way; :meth:`done` once its answer (or error) is back."""

    _limiter: OutgoingLimiter
    chat: ChatKey | None  # the chat of a bulk message; None for anything else
    bulk: bool
    total: int = 0  # the total when it was admitted (or its ticket reserved)
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
        self._total_until = math.inf  # the total lapses to 0 then (set_total's ``until``)
        self._bulk_interval = self._pacing()
        self._next_bulk = -math.inf
        self._last_bulk_to: dict[ChatKey, float] = {}  # when the chat's last bulk answer came back
        self._bulk_in_flight_to: set[ChatKey] = set()
        self._reserved = 0  # bulk tickets held, not yet sent
        self._in_flight = 0
        self._bulk_in_flight = 0
        self._replies_waiting = 0
        self._paused_until = -math.inf
        self._pause_listeners: list[Callable[[float], None]] = []
        # What each request still counted was admitted under: the totals of reserved tickets and
        # requests in flight, and (answered at, total) for those answered within the last window.
        self._busy_totals: Counter[int] = Counter()
        self._answered_totals: deque[tuple[float, int]] = deque()
        self._changed = asyncio.Event()

    # --- the total ---------------------------------------------------------------------------

    def set_total(self, total: int, *, until: float | None = None) -> None:
        """From now on at most ``total`` requests per window, until ``until`` (monotonic seconds;
        then 0 until set again). A lower total holds at once: nothing leaves until what is counted
        fits under it. 0 stops everything (replies wait, reserved bulk sends are held back)."""
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"total: expected a whole number of requests per second >= 0, got {total!r}")
        if self._all is None:
            self._all = _Window(total, WINDOW_SECONDS)
        self._all.limit = total
        self._total_until = math.inf if until is None else until
        self._bulk_interval = self._pacing()
        self._notify()

    def total_now(self) -> int | None:
        """The total in force now (0 once lapsed); None if this limiter limits bulk only."""
        if self._all is None:
            return None
        return self._all.limit if monotonic_seconds() < self._total_until else 0

    def footprint(self) -> int:
        """How many requests this limiter may have counted at any moment from now on, if its total is
        never raised again: the current total, or more while requests admitted under a larger one are
        still counted (reserved, in flight, or answered within the last window)."""
        now = monotonic_seconds()
        while self._answered_totals and self._answered_totals[0][0] <= now - WINDOW_SECONDS:
            self._answered_totals.popleft()
        totals = [self.total_now() or 0, *(t for t, n in self._busy_totals.items() if n > 0)]
        totals.extend(t for _, t in self._answered_totals)
        return max(totals)

    def _pacing(self) -> float:
        """Even pacing inside the windows: the stricter of the bulk rate and the total."""
        total = self._all.span / self._all.limit if self._all is not None and self._all.limit else 0.0
        return max(self._bulk.span / self._bulk.limit, total)

    # --- pauses ------------------------------------------------------------------------------

    def pause(self, seconds: float, *, announce: bool = True) -> None:
        """Telegram said 429: nothing leaves, from anyone, for ``seconds`` from now. The listeners
        hear of it (bot.rate_share tells the other processes) unless ``announce`` is False (a pause
        the other processes told us of)."""
        until = monotonic_seconds() + seconds
        self._paused_until = max(self._paused_until, until)
        if announce:
            for listener in self._pause_listeners:
                listener(until)

    def on_pause(self, listener: Callable[[float], None]) -> None:
        """Call ``listener(until)`` (monotonic seconds) on every announced pause."""
        self._pause_listeners.append(listener)

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
        total = self.total_now() or 0
        self._busy_totals[total] += 1
        return BulkTicket(self, total)

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
            if self.total_now() == 0:  # this process's share lapsed (or is 0): its reservation is void
                raise SendHeldBack(0.0, "held back: this process has no share of the rate now")
            if (wait := self._chat_delay(chat, now)) <= 0:
                break
            await self._nap(min(wait, _LONGEST_NAP), stopping)
        ticket.open = False
        self._reserved -= 1
        self._busy_totals[ticket.total] -= 1
        return self._leave(chat, bulk=True, total=ticket.total)

    # --- internals ---------------------------------------------------------------------------

    def _busy(self) -> int:
        return self._reserved + self._in_flight

    def _total_delay(self, now: float) -> float:
        if self._all is None:
            return 0.0
        if now >= self._total_until:
            return math.inf  # woken when a total is set again
        return self._all.delay(now, self._busy())

    def _reply_delay(self, now: float) -> float:
        return max(self._paused_until - now, self._total_delay(now))

    def _bulk_delay(self, now: float) -> float:
        if self._replies_waiting:
            return math.inf  # woken when the reply has gone
        windows = [self._bulk.delay(now, self._reserved + self._bulk_in_flight), self._total_delay(now)]
        return max(self._paused_until - now, self._next_bulk - now, *windows)

    def _chat_delay(self, chat: ChatKey | None, now: float) -> float:
        if chat is None:
            return 0.0
        if chat in self._bulk_in_flight_to:
            return math.inf  # woken when it is answered
        last = self._last_bulk_to.get(chat)
        return 0.0 if last is None else last + WINDOW_SECONDS - now

    def _leave(self, chat: ChatKey | None, *, bulk: bool = False, total: int | None = None) -> Permit:
        if total is None:
            total = self.total_now() or 0
        self._busy_totals[total] += 1
        self._in_flight += 1
        if bulk:
            self._bulk_in_flight += 1
            if chat is not None:
                self._bulk_in_flight_to.add(chat)
        return Permit(self, chat if bulk else None, bulk, total)

    def _finish(self, permit: Permit) -> None:
        """The answer is back: from now on the request counts for one more window."""
        now = monotonic_seconds()
        self._in_flight -= 1
        self._busy_totals[permit.total] -= 1
        self._answered_totals.append((now, permit.total))
        while self._answered_totals[0][0] <= now - WINDOW_SECONDS:
            self._answered_totals.popleft()
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

    def _unreserve(self, ticket: BulkTicket) -> None:
        self._reserved -= 1
        self._busy_totals[ticket.total] -= 1
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
