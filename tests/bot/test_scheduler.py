"""The scheduler against a real database: schedules in tables, catch-up, failures, take-over, races."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.scheduler import Daily, Every, Job, JobContext, Scheduler
from storage.database import Database
from storage.encryption import FieldCipher

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 09:00 in Shanghai.
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@dataclass
class JobServices:
    """What the scheduler uses of Services: the clock, the database and the time zone."""

    clock: ManualClock
    database: Database
    tz: ZoneInfo = SHANGHAI


@dataclass
class Recorder:
    runs: list[tuple[str, datetime, datetime, int]] = field(default_factory=list)
    fail_times: int = 0

    async def __call__(self, context: JobContext) -> dict[str, int]:
        self.runs.append((context.name, context.due_at, context.now, context.attempt))
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("boom")
        return {"runs": len(self.runs)}


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, FieldCipher(bytes(32)))
    yield db
    await db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


# --- schedules ---------------------------------------------------------------------------------


def test_daily_is_local_wall_clock_time() -> None:
    midnight = Daily(time(0, 0))
    assert midnight.next_after(_local(2, 9), SHANGHAI) == _local(3, 0)
    assert midnight.next_after(_local(3, 0), SHANGHAI) == _local(4, 0)  # strictly after
    assert midnight.previous_at_or_before(_local(3, 0), SHANGHAI) == _local(3, 0)
    assert midnight.spec == "daily 00:00"


def test_every_is_aligned_so_every_process_agrees() -> None:
    minute = Every(timedelta(minutes=1))
    assert minute.next_after(datetime(2026, 3, 2, 1, 0, 30, tzinfo=timezone.utc), SHANGHAI) == \
        datetime(2026, 3, 2, 1, 1, tzinfo=timezone.utc)
    assert minute.next_after(datetime(2026, 3, 2, 1, 1, tzinfo=timezone.utc), SHANGHAI) == \
        datetime(2026, 3, 2, 1, 2, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="period"):
        Every(timedelta(0))


def test_job_names_must_be_unique(database: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    with pytest.raises(ValueError, match="unique"):
        Scheduler(JobServices(clock, database), [Job("a", Daily(time(0)), recorder), Job("a", Daily(time(1)), recorder)])


# --- running -----------------------------------------------------------------------------------


async def test_schedules_live_in_the_database_and_survive_a_restart(database: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    first = Scheduler(JobServices(clock, database), [Job("tick", Daily(time(0, 0)), recorder)], owner="first")
    await first.sync()
    async with database.unit_of_work() as uow:
        [row] = await uow.schedules.all()
    assert (row.name, row.spec, row.next_due_at) == ("tick", "daily 00:00", _local(3, 0))
    assert await first.run_due() == []

    clock.set(_local(3, 0, 1))
    second = Scheduler(JobServices(clock, database), [Job("tick", Daily(time(0, 0)), recorder)], owner="second")
    await second.sync()  # a new process: it finds the due time in the table, not in memory
    [outcome] = await second.run_due()
    assert (outcome.name, outcome.due_at, outcome.state) == ("tick", _local(3, 0), "done")
    assert await second.run_due() == [] and await first.run_due() == []
    assert len(recorder.runs) == 1
    async with database.unit_of_work() as uow:
        [run] = await uow.schedules.runs("tick")
        [row] = await uow.schedules.all()
    assert (run.owner, run.state, run.attempt) == ("second", "done", 1)
    assert row.next_due_at == _local(4, 0) and row.lease_owner is None


async def test_missed_occurrences_run_once_after_downtime(database: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    jobs = [Job("day", Daily(time(0, 0)), recorder), Job("minute", Every(timedelta(minutes=1)), recorder)]
    before = Scheduler(JobServices(clock, database), jobs, owner="before")
    await before.sync()
    clock.set(_local(6, 9, 30))  # down for four days
    after = Scheduler(JobServices(clock, database), jobs, owner="after")
    await after.sync()
    outcomes = await after.run_due()
    assert sorted((o.name, o.due_at) for o in outcomes) == [("day", _local(3, 0)), ("minute", START + timedelta(minutes=1))]
    # As if on time: today's 00:00 day change comes before the minute job's 09:30 occurrence.
    assert [name for name, *_ in recorder.runs] == ["day", "minute"]
    assert all(now == _local(6, 9, 30) for _, _, now, _ in recorder.runs)  # run at restart, for today
    assert await after.run_due() == []
    async with database.unit_of_work() as uow:
        rows = {row.name: row.next_due_at for row in await uow.schedules.all()}
    assert rows == {"day": _local(7, 0), "minute": _local(6, 9, 31)}


async def test_jobs_run_in_order_of_due_time(database: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    jobs = [Job("late", Daily(time(8, 0)), recorder), Job("early", Daily(time(0, 0)), recorder)]
    scheduler = Scheduler(JobServices(clock, database), jobs)
    await scheduler.sync()
    clock.set(_local(3, 9))
    await scheduler.run_due()
    assert [name for name, *_ in recorder.runs] == ["early", "late"]


async def test_a_failed_run_is_recorded_and_retried(database: Database, clock: ManualClock) -> None:
    recorder = Recorder(fail_times=1)
    scheduler = Scheduler(JobServices(clock, database), [Job("flaky", Daily(time(0, 0)), recorder)])
    await scheduler.sync()
    clock.set(_local(3, 0, 1))
    [failed] = await scheduler.run_due()
    assert failed.state == "failed"
    async with database.unit_of_work() as uow:
        [run] = await uow.schedules.runs("flaky")
        [row] = await uow.schedules.all()
    assert (run.state, run.detail) == ("failed", "RuntimeError")
    assert row.next_due_at == _local(3, 0, 6) and row.lease_owner is None
    clock.advance(timedelta(minutes=4))
    assert await scheduler.run_due() == []
    clock.advance(timedelta(minutes=1))
    [retried] = await scheduler.run_due()
    assert retried.state == "done" and retried.due_at == _local(3, 0, 6)
    async with database.unit_of_work() as uow:
        assert (await uow.schedules.all())[0].next_due_at == _local(4, 0)


async def test_a_run_whose_process_died_is_taken_over_after_its_lease(database: Database, clock: ManualClock) -> None:
    recorder = Recorder()
    job = Job("sweep", Daily(time(0, 0)), recorder, lease=timedelta(minutes=10))
    dead = Scheduler(JobServices(clock, database), [job], owner="dead")
    await dead.sync()
    clock.set(_local(3, 0, 1))
    assert await dead._claim(job) == (_local(3, 0), 1)  # claimed, then the process "dies" mid-run

    alive = Scheduler(JobServices(clock, database), [job], owner="alive")
    assert await alive.run_due() == []  # the lease still runs: the other process may be working
    clock.advance(timedelta(minutes=11))
    [outcome] = await alive.run_due()
    assert (outcome.due_at, outcome.attempt, outcome.state) == (_local(3, 0), 2, "done")
    async with database.unit_of_work() as uow:
        [run] = await uow.schedules.runs("sweep")
        [row] = await uow.schedules.all()
    assert (run.owner, run.attempt, run.state) == ("alive", 2, "done")
    assert row.lease_owner is None and row.next_due_at == _local(4, 0)
    assert recorder.runs == [("sweep", _local(3, 0), _local(3, 0, 12), 2)]


async def test_a_long_run_keeps_its_lease(database: Database, clock: ManualClock) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(context: JobContext) -> None:
        started.set()
        await release.wait()

    job = Job("slow", Daily(time(0, 0)), slow, lease=timedelta(seconds=0.3))
    scheduler = Scheduler(JobServices(clock, database), [job], owner="worker")
    await scheduler.sync()
    clock.set(_local(3, 0, 1))
    running = asyncio.create_task(scheduler.run_due())
    await started.wait()
    for _ in range(3):
        clock.advance(timedelta(seconds=0.2))
        await asyncio.sleep(0.15)  # the heartbeat renews every 0.1 s
        async with database.unit_of_work() as uow:
            row = (await uow.schedules.all())[0]
        assert row.lease_owner == "worker" and row.lease_until > clock.now()
    release.set()
    [outcome] = await running
    assert outcome.state == "done"


async def test_a_changed_schedule_or_a_clock_set_back_is_noticed_at_start_up(database: Database,
                                                                              clock: ManualClock) -> None:
    recorder = Recorder()
    await Scheduler(JobServices(clock, database), [Job("remind", Daily(time(8, 0)), recorder)]).sync()
    await Scheduler(JobServices(clock, database), [Job("remind", Daily(time(7, 0)), recorder)]).sync()
    async with database.unit_of_work() as uow:
        [row] = await uow.schedules.all()
    assert (row.spec, row.next_due_at) == ("daily 07:00", _local(3, 7))
    clock.set(_local(1, 9))  # the clock went back a day
    await Scheduler(JobServices(clock, database), [Job("remind", Daily(time(7, 0)), recorder)]).sync()
    async with database.unit_of_work() as uow:
        assert (await uow.schedules.all())[0].next_due_at == _local(2, 7)


async def test_competing_schedulers_run_each_occurrence_once(database_url: str, clock: ManualClock) -> None:
    """Several schedulers, each with its own engine (as separate processes would have), racing."""
    recorder = Recorder()
    jobs = [Job(f"job{i}", Every(timedelta(minutes=1)), recorder) for i in range(6)]
    databases = [Database(database_url, FieldCipher(bytes(32))) for _ in range(3)]
    schedulers = [Scheduler(JobServices(clock, db), jobs, owner=f"s{i}") for i, db in enumerate(databases)]
    try:
        await asyncio.gather(*(s.sync() for s in schedulers))
        for _ in range(5):
            clock.advance(timedelta(minutes=1))
            await asyncio.gather(*(s.run_due() for s in schedulers))
        async with databases[0].unit_of_work() as uow:
            runs = await uow.schedules.runs()
    finally:
        for db in databases:
            await db.dispose()
    occurrences = [(name, due) for name, due, _, _ in recorder.runs]
    assert len(occurrences) == len(set(occurrences)) == 30
    assert sorted((r.job_name, r.due_at) for r in runs) == sorted(occurrences)
