"""One Telegram rate for all the bot's processes: each process's share, renewed through PostgreSQL.

Telegram counts per bot. With N bot processes (webhooks served by several, bulk sent by the one that
holds storage.leadership.Leadership) the requests of all of them together must stay within
``telegram_rate`` in every second. Each process keeps its own :class:`bot.rate_limit.OutgoingLimiter`
(sliding windows, replies first, pauses) and this task sets that limiter's total to the process's share.

**The protocol.** About once a second each process renews in ONE transaction, serialised with every
other renewal by a transaction-level advisory lock (storage.repositories.sender_shares): it reads the
database's clock (one clock for every host), forgets the rows not seen for ``FORGET_AFTER`` (5 s), and
with the N live rows (its own included) takes

    share = min(fair, rate - Σ others' holds),   fair = rate // N (+1 for the first rate % N ids)
    holds = max(share, footprint)

where ``footprint`` is what its limiter may still have counted (OutgoingLimiter.footprint: its current
total, or more while requests admitted under a larger total have not drained: reserved, in flight, or
answered less than a window ago). It writes ``seen_at``, ``share``, ``holds`` and ``valid_until`` and,
once committed, sets its limiter's total to ``share`` until ``GRANT_SECONDS`` (2 s) after the renewal
*began* (its own monotonic clock). If it cannot renew by then, the total lapses to 0 (fencing): it never
sends on an expired share. A process that joins gets what the others do not hold, which is 0 until
they have come down to their fair part (a renewal or two) and drained: it waits; replies wait, never fail.

**Why the sum never exceeds the rate.** Write C_p(t) for what p's limiter counts at t (reserved, in
flight, or answered within the last second).

1. Locally, every request arriving at Telegram in a second [s, s+1) left before s+1 and was answered
   after s (it arrives between leaving and its answer), so at the moment L the last of them left, all
   of them were counted together: k ≤ C(L). (This is the local limiter's own argument; bot/rate_limit.py.)
   Across processes the same holds at L* = the latest of those moments: every request that arrived in
   the second, whichever process sent it, is counted by its process at L*. So it is enough that
   Σ_p C_p(t) ≤ rate at every t.
2. A limiter admits only while what it counts is below its total, so C_p(t) is at most the total in
   force when the latest request it still counts was admitted. So, from a renewal on, C_p stays within
   that renewal's ``holds``: requests admitted before it are in the footprint, requests admitted after
   it go under ``share`` ≤ ``holds`` (or under nothing, once it lapsed), and the counted set only drains.
   Until the transaction commits, the old total is in force, and it is part of the footprint too.
3. The footprint at a renewal is at most the ``holds`` of the previous one (what is counted now was
   counted then, or admitted under the share written then). So a renewal writes
   holds = max(share, footprint) ≤ max(rate - Σ others, previous holds), and Σ holds over the rows stays
   ≤ rate: renewals are serialised by the lock, and forgetting a row only lowers the sum.
4. Hence Σ_p C_p(t) ≤ Σ_p holds_p ≤ rate, as long as a forgotten row really holds nothing: a process
   unseen for 5 s stopped admitting 2 s after its last renewal began (fencing), so this assumes that
   its requests were answered (or given up by the HTTP client) within the remaining 2 s.
   Times are compared on one clock each: the database's for rows, the process's monotonic one for its
   lapse (which begins before the transaction, so it ends no later than ``valid_until``).

Why not simply make a joiner wait for the grants the others had when it joined, plus a second? A request
admitted on such a grant may still be in flight after the grant expired (a slow round trip), and it is
counted until its answer plus a second; the others, meanwhile, send their new share. ``holds`` carries
exactly that, so nobody has to guess a round trip.

**A 429** seen by one process (OutgoingLimiter.pause, from handlers/rate_limiter.py or the delivery
worker) is written as that row's ``paused_until`` by a renewal made at once; the others pause until then
at their next renewal (within a second).

**Cost and trade-off.** One small transaction per second per process (the advisory lock, a DELETE, a
SELECT of N rows, an upsert). The shares are equal, so with N processes the one sending bulk gets at
most about rate / N. On SQLite (one process) nothing runs: the limiter keeps the whole rate.
"""
from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import monotonic_seconds
from bot.rate_limit import WINDOW_SECONDS, OutgoingLimiter
from storage.database import Database
from storage.records import SenderShareView

log = logging.getLogger(__name__)

RENEW_EVERY = 1.0
GRANT_SECONDS = 2.0
FORGET_AFTER = 5.0
_DRAIN_AT_STOP = 3.0  # how long stop() waits for what is counted to drain before leaving its row


def new_process_id() -> str:
    """host:pid:random, unique across hosts and restarts (a restarted pid is a new process)."""
    return f"{socket.gethostname()[:96]}:{os.getpid()}:{secrets.token_hex(4)}"


def fair_share(rate: int, me: str, processes: list[str]) -> int:
    """rate // N each, the remainder one each to the first ids in order: the parts add up to ``rate``."""
    ordered = sorted(set(processes) | {me})
    base, extra = divmod(rate, len(ordered))
    return base + (1 if ordered.index(me) < extra else 0)


@dataclass(frozen=True, slots=True)
class Allotment:
    share: int
    holds: int
    paused_until: datetime | None  # this row's (its own 429s)
    pause_left: float  # the longest pause any row asks for, in seconds from now
    processes: int


def allot(view: SenderShareView, me: str, *, rate: int, footprint: int, own_pause: float) -> Allotment:
    """This renewal's share, from the live rows under the lock (see the module's proof)."""
    fair = fair_share(rate, me, [row.process_id for row in view.others])
    share = max(0, min(fair, rate - sum(row.holds for row in view.others)))
    paused_until = view.mine.paused_until if view.mine is not None else None
    if own_pause > 0:
        mine = view.now + timedelta(seconds=own_pause)
        paused_until = mine if paused_until is None else max(paused_until, mine)
    ends = [row.paused_until for row in view.others if row.paused_until is not None]
    pause_left = max([(end - view.now).total_seconds() for end in ends], default=0.0)
    return Allotment(share, max(share, footprint), paused_until, max(0.0, pause_left), len(view.others) + 1)


def rate_share_for(bot: object, database: Database, rate: int) -> RateShare:
    """The RateShare of a ptb bot whose wire has our limiter (handlers/rate_limiter.py); inactive
    (start and stop do nothing) for one without, and on SQLite."""
    wire = getattr(getattr(bot, "rate_limiter", None), "limiter", None)
    return RateShare(database, wire if isinstance(wire, OutgoingLimiter) else None, rate)


class RateShare:
    """This process's share of the bot's rate, renewed about every second (PostgreSQL only)."""

    def __init__(self, database: Database, limiter: OutgoingLimiter | None, rate: int, *,
                 process_id: str | None = None, renew_every: float = RENEW_EVERY,
                 grant_seconds: float = GRANT_SECONDS, forget_after: float = FORGET_AFTER) -> None:
        if not grant_seconds > renew_every > 0:
            raise ValueError("rate share: need grant_seconds > renew_every > 0")
        if forget_after <= grant_seconds + WINDOW_SECONDS:  # a forgotten row must hold nothing (proof, 4.)
            raise ValueError("rate share: need forget_after > grant_seconds + 1 s")
        self._database = database
        self._limiter = limiter
        self._rate = rate
        self.process_id = process_id or new_process_id()
        self._renew_every = renew_every
        self._grant_seconds = grant_seconds
        self._forget_after = timedelta(seconds=forget_after)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._announced_until = -math.inf  # the end of our latest 429 pause (monotonic)
        self._failing = False
        self._listening = False
        self.last: Allotment | None = None

    @property
    def active(self) -> bool:
        """True when this process shares the rate (PostgreSQL and a limiter on the wire)."""
        return self._limiter is not None and self._database.dialect == "postgresql"

    async def start(self) -> None:
        """Call it before the bot sends anything (before the Application is initialised: getMe goes
        through the limiter too), so that nothing leaves outside a share. No share until the first
        renewal, which this makes."""
        if not self.active or self._task is not None:
            return
        assert self._limiter is not None
        self._limiter.set_total(0)
        if not self._listening:
            self._limiter.on_pause(self._paused)
            self._listening = True
        await self.renew()
        self._task = asyncio.create_task(self._run(), name="rate-share")

    async def stop(self) -> None:
        """After the bot has stopped sending: give the share back once what is counted has drained."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert self._limiter is not None
        self._limiter.set_total(0)
        deadline = monotonic_seconds() + _DRAIN_AT_STOP
        while self._limiter.footprint() > 0 and monotonic_seconds() < deadline:
            await asyncio.sleep(0.05)
        if self._limiter.footprint() > 0:
            return  # still counted: the row stays and is forgotten after FORGET_AFTER
        try:
            async with asyncio.timeout(self._grant_seconds):
                async with self._database.unit_of_work() as uow:
                    await uow.sender_shares.leave(self.process_id)
        except Exception as error:  # noqa: BLE001 - the others forget the row after FORGET_AFTER
            log.warning("rate share: could not leave (%s); the row is forgotten in %.0f s",
                        type(error).__name__, self._forget_after.total_seconds())

    async def renew(self) -> bool:
        """One renewal; False if it failed (the current share then lapses on time by itself)."""
        limiter = self._limiter
        assert limiter is not None
        began = monotonic_seconds()
        footprint = limiter.footprint()  # before the transaction: the old total stays in force until set
        own_pause = max(0.0, self._announced_until - began)
        try:
            async with asyncio.timeout(self._grant_seconds), self._database.unit_of_work() as uow:
                view = await uow.sender_shares.open(self.process_id, forget_after=self._forget_after)
                allotment = allot(view, self.process_id, rate=self._rate, footprint=footprint, own_pause=own_pause)
                await uow.sender_shares.record(
                    self.process_id, now=view.now, valid_until=view.now + timedelta(seconds=self._grant_seconds),
                    share=allotment.share, holds=allotment.holds, paused_until=allotment.paused_until)
        except Exception as error:  # noqa: BLE001 - unreachable database: the share lapses, we retry
            if not self._failing:
                log.warning("rate share: renewal failed (%s); this process sends nothing once its share "
                            "lapses, until a renewal succeeds", type(error).__name__)
            self._failing = True
            return False
        if self._failing:
            log.info("rate share: renewed again")
            self._failing = False
        limiter.set_total(allotment.share, until=began + self._grant_seconds)
        if allotment.pause_left > 0:
            limiter.pause(allotment.pause_left, announce=False)
        self.last = allotment
        return True

    def _paused(self, until: float) -> None:
        """A 429 here: tell the others now, not at the next tick."""
        if until > self._announced_until:
            self._announced_until = until
            self._wake.set()

    async def _run(self) -> None:
        while True:
            began = monotonic_seconds()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, began + self._renew_every - monotonic_seconds()))
            except TimeoutError:
                pass
            self._wake.clear()
            await self.renew()


__all__ = ["FORGET_AFTER", "GRANT_SECONDS", "RENEW_EVERY", "Allotment", "RateShare", "allot", "fair_share",
           "new_process_id", "rate_share_for"]
