"""The one scheduler: every timed job (day change, reminders, retention) runs through it.

Schedules live in the ``scheduled_jobs`` table, one row per job with its next due time. At
start-up ``sync`` writes a row for every job that has none and keeps the due time of those that
have one, so nothing exists only in memory and a restart loses nothing.

Guarantees, with any number of processes on one database:

* **Exactly once per occurrence.** A process claims a due occurrence with a compare-and-set on
  the row (``next_due_at`` still the due time it saw, no lease held), which also moves
  ``next_due_at`` on and takes a lease. On PostgreSQL a concurrent claimer blocks on the row lock,
  then finds the row changed and claims nothing; on SQLite ``BEGIN IMMEDIATE`` admits one writer
  at a time. ``job_runs`` is unique on (job, due time) as a second guard.
* **Catch-up.** Occurrences missed while every process was down collapse into one run: the
  claim moves ``next_due_at`` to the first occurrence after *now*, not after the missed one.
* **Crashes.** While a job runs its lease is renewed; a process that dies stops renewing, and
  once the lease runs out another process takes the run over and runs it again. Every job is
  written to be idempotent (it records what it did in the same transactions that do it), so a
  run taken over finishes the work instead of repeating it.
* **Failures.** A job that raises is recorded ``failed`` (exception type only: no personal data)
  and retried after ``RETRY_AFTER_FAILURE`` unless it falls due sooner anyway.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from storage.records import JobSchedule
from storage.repositories.schedules import DONE, FAILED

if TYPE_CHECKING:
    from bot.services.context import Services

log = logging.getLogger("healthcode.scheduler")

DEFAULT_LEASE = timedelta(minutes=10)
RETRY_AFTER_FAILURE = timedelta(minutes=5)
POLL_SECONDS = 20.0
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Schedule(Protocol):
    @property
    def spec(self) -> str:
        """The schedule as text, stored with the job: a changed spec is noticed at start-up."""
        ...

    def next_after(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """The first occurrence strictly after ``instant`` (UTC)."""
        ...

    def previous_at_or_before(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """The last occurrence at or before ``instant`` (UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class Daily:
    """Every day at a local wall-clock time."""

    at: time

    @property
    def spec(self) -> str:
        return f"daily {self.at:%H:%M}"

    def _on(self, day: date, tz: ZoneInfo) -> datetime:
        return datetime.combine(day, self.at, tzinfo=tz).astimezone(timezone.utc)

    def next_after(self, instant: datetime, tz: ZoneInfo) -> datetime:
        day = instant.astimezone(tz).date()
        candidate = self._on(day, tz)
        return candidate if candidate > instant else self._on(day + timedelta(days=1), tz)

    def previous_at_or_before(self, instant: datetime, tz: ZoneInfo) -> datetime:
        day = instant.astimezone(tz).date()
        candidate = self._on(day, tz)
        return candidate if candidate <= instant else self._on(day - timedelta(days=1), tz)


@dataclass(frozen=True, slots=True)
class Every:
    """Every ``period``, aligned to whole periods since the Unix epoch (so every process agrees)."""

    period: timedelta

    def __post_init__(self) -> None:
        if self.period <= timedelta(0):
            raise ValueError("period: must be positive")

    @property
    def spec(self) -> str:
        return f"every {int(self.period.total_seconds())}s"

    def previous_at_or_before(self, instant: datetime, tz: ZoneInfo) -> datetime:
        steps = (instant - _EPOCH) // self.period
        return _EPOCH + steps * self.period

    def next_after(self, instant: datetime, tz: ZoneInfo) -> datetime:
        return self.previous_at_or_before(instant, tz) + self.period


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a running job is told: the occurrence it runs for, and the time it started."""

    services: Services
    name: str
    due_at: datetime
    now: datetime
    attempt: int

    @property
    def today(self) -> date:
        return self.now.astimezone(self.services.tz).date()


JobFunction = Callable[[JobContext], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    schedule: Schedule
    run: JobFunction
    lease: timedelta = DEFAULT_LEASE


@dataclass(frozen=True, slots=True)
class RunOutcome:
    name: str
    due_at: datetime
    attempt: int
    state: str  # done | failed
    result: object = None


def process_owner_id() -> str:
    """Names this process in leases and job runs: host, pid and a random suffix."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class Scheduler:
    def __init__(self, services: Services, jobs: Sequence[Job], *, owner: str | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"jobs: names must be unique, got {names}")
        self._services = services
        self._jobs = {job.name: job for job in jobs}
        self.owner = owner or process_owner_id()
        self._poll_seconds = poll_seconds
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(self._jobs.values())

    async def sync(self) -> None:
        """Make the database schedule match the jobs in code (start-up, or after the clock moved back).

        A job without a row is first due at its next occurrence. A row whose spec changed, or whose
        due time lies beyond the next occurrence (the clock was set back), is due at the next
        occurrence. Any other row keeps its due time, so an occurrence missed while down runs.
        """
        services = self._services
        now, tz = services.clock.now(), services.tz
        async with services.database.unit_of_work() as uow:
            for job in self._jobs.values():
                upcoming = job.schedule.next_after(now, tz)
                row = await uow.schedules.ensure(job.name, job.schedule.spec, upcoming, now)
                if row.spec != job.schedule.spec or row.next_due_at > upcoming:
                    await uow.schedules.reschedule(job.name, job.schedule.spec, upcoming, now)

    async def run_due(self) -> list[RunOutcome]:
        """Run every job that is due now (each once); return what this process ran.

        Jobs run in the order of their latest occurrence up to now, as they would have run on time:
        after a night of downtime the 00:00 day change runs before the reminder due every minute.
        """
        services = self._services
        now, tz = services.clock.now(), services.tz
        async with services.database.unit_of_work() as uow:
            rows = await uow.schedules.all()
        # A job another version of the bot knows is left to that version.
        jobs = [self._jobs[row.name] for row in rows if row.name in self._jobs]
        outcomes = []
        for job in sorted(jobs, key=lambda j: (j.schedule.previous_at_or_before(now, tz), j.name)):
            outcome = await self._run_if_due(job)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def _run_if_due(self, job: Job) -> RunOutcome | None:
        claimed = await self._claim(job)
        if claimed is None:
            return None
        due_at, attempt = claimed
        return await self._execute(job, due_at, attempt)

    async def _claim(self, job: Job) -> tuple[datetime, int] | None:
        """(due time, attempt) of the occurrence this process now holds, or None."""
        services = self._services
        now = services.clock.now()
        lease_until = now + job.lease
        async with services.database.unit_of_work() as uow:
            schedules = uow.schedules
            row = await schedules.get(job.name)
            if row is None:
                return None
            due_at = self._claimable(row, now)
            if due_at is None:
                return None
            if row.lease_owner is not None:
                if not await schedules.reclaim(job.name, row, self.owner, lease_until, now):
                    return None
                log.warning("job %s: taking over the run due %s from %s, whose lease ran out",
                            job.name, due_at.isoformat(), row.lease_owner)
            else:
                following = job.schedule.next_after(now, services.tz)
                if not await schedules.claim(job.name, due_at, following, self.owner, lease_until, now):
                    return None
            attempt = await schedules.start_run(job.name, due_at, self.owner, now)
        return due_at, attempt

    @staticmethod
    def _claimable(row: JobSchedule, now: datetime) -> datetime | None:
        if row.lease_owner is not None:
            # Held: by a live process (leave it), or by a dead one (take its run over).
            expired = row.lease_until is not None and row.lease_until <= now
            return row.last_due_at if expired and row.last_due_at is not None else None
        return row.next_due_at if row.next_due_at <= now else None

    async def _execute(self, job: Job, due_at: datetime, attempt: int) -> RunOutcome:
        services = self._services
        context = JobContext(services, job.name, due_at, services.clock.now(), attempt)
        heartbeat = asyncio.create_task(self._keep_lease(job))
        state, result, detail = DONE, None, None
        try:
            result = await job.run(context)
        except Exception as error:  # noqa: BLE001 - recorded and retried; the scheduler carries on
            state, detail = FAILED, type(error).__name__
            log.error("job %s (due %s) failed: %s", job.name, due_at.isoformat(), detail)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        now = services.clock.now()
        async with services.database.unit_of_work() as uow:
            await uow.schedules.finish_run(job.name, due_at, self.owner, state, now, detail)
            retry_at = now + RETRY_AFTER_FAILURE if state == FAILED else None
            await uow.schedules.release(job.name, self.owner, now, retry_at=retry_at)
        if state == DONE:
            log.info("job %s (due %s) done: %s", job.name, due_at.isoformat(), _summary(result))
        return RunOutcome(job.name, due_at, attempt, state, result)

    async def _keep_lease(self, job: Job) -> None:
        """Renew the lease at a third of its length until cancelled."""
        interval = max(job.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._services.database.unit_of_work() as uow:
                    renewed = await uow.schedules.renew(job.name, self.owner,
                                                               self._services.clock.now() + job.lease)
                if not renewed:
                    log.error("job %s: lease lost while running; another process may take it over", job.name)
            except Exception as error:  # noqa: BLE001 - a missed renewal is retried at the next tick
                log.warning("job %s: lease renewal failed: %s", job.name, type(error).__name__)

    # -- running in the background -------------------------------------------------------------

    async def start(self) -> None:
        """Sync the schedule, then run due jobs every ``poll_seconds`` until ``stop``."""
        await self.sync()
        self._stop.clear()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.run_due()
            except Exception as error:  # noqa: BLE001 - e.g. the database is briefly unreachable
                log.error("scheduler tick failed: %s", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._poll_seconds)


def _summary(result: object) -> str:
    """Jobs return counts (dicts of numbers): safe to log. Anything else is not logged."""
    if isinstance(result, dict) and all(isinstance(v, (int, float, str, type(None))) for v in result.values()):
        return ", ".join(f"{k}={v}" for k, v in result.items()) or "nothing to do"
    return "ok"
