"""The day-change job over the real Application, scheduler and delivery worker."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jobs import day_change
from bot.jobs.runtime import TimedJobs
from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from rules.model import Colour, Reason, Status
from storage.records import StoredStatus
from tests.handlers.conftest import VALID_IDS, Harness, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


@pytest.fixture
def citizen() -> LocalUser:
    return LocalUser(20001, "Alice", "en")


@pytest.fixture
async def jobs(harness: Harness) -> TimedJobs:
    timed = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await timed.sync()
    return timed


async def run_at(harness: Harness, jobs: TimedJobs, instant: datetime) -> dict[int, list[SentMessage]]:
    """Move the clock, run what fell due, drain delivery; the messages each chat received."""
    first = len(harness.api.changes)
    harness.clock.set(instant)
    await jobs.run_due()
    received: dict[int, list[SentMessage]] = {}
    for key in dict.fromkeys(harness.api.changes[first:]):
        received.setdefault(key[0], []).append(harness.api.messages[key])
    return received


def _stored(colour: Colour, reason: str, evaluated_for: date) -> StoredStatus:
    return StoredStatus(1, colour, reason, DAY0, None, evaluated_for, at(0, 9))


def _status(colour: Colour, reason: str, *, streak: int = 0, last: date | None = None) -> Status:
    return Status(colour, Reason(reason), DAY0, None, normal_streak=streak, required_streak=7, last_declared=last)


def test_which_changes_deserve_a_notice() -> None:
    today = DAY0 + timedelta(days=5)
    yesterday = today - timedelta(days=1)
    assert day_change.change_kind(None, _status(Colour.GREEN, "normal"), today) is None
    assert day_change.change_kind(_stored(Colour.GREEN, "normal", yesterday), _status(Colour.GREEN, "normal"),
                                  today) is None
    assert day_change.change_kind(_stored(Colour.YELLOW, "recovering", yesterday),
                                  _status(Colour.GREEN, "recovered"), today) == "recovered"
    missed = _status(Colour.YELLOW, "temperature_high", last=today - timedelta(days=2))
    assert day_change.change_kind(_stored(Colour.YELLOW, "recovering", yesterday), missed, today) == "missed_day"
    # Not running a streak, nothing restarts: no notice for every day without a declaration.
    assert day_change.change_kind(_stored(Colour.YELLOW, "temperature_high", yesterday), missed, today) is None
    # Declared yesterday (abnormally): they saw their card then.
    declared = _status(Colour.YELLOW, "temperature_high", last=yesterday)
    assert day_change.change_kind(_stored(Colour.YELLOW, "recovering", yesterday), declared, today) is None
    assert day_change.change_kind(_stored(Colour.RED, "authority_decision", yesterday),
                                  _status(Colour.GREEN, "normal"), today) == "decision_lifted"
    assert day_change.change_kind(_stored(Colour.GREEN, "normal", yesterday),
                                  _status(Colour.RED, "authority_decision"), today) == "colour_changed"


async def test_a_missed_day_restarts_the_count_and_the_person_is_told(harness: Harness, jobs: TimedJobs,
                                                                      citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.declare(citizen, temperature="38.0")
    for day in (1, 2):
        harness.clock.set(at(day, 9))
        await harness.declare(citizen)
    assert await run_at(harness, jobs, at(3, 7)) == {}  # day 2 was declared: nothing to say on day 3
    harness.clock.set(at(3, 9))
    await harness.say(citizen, "/status")  # looks at the code on day 3 without declaring
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        [before] = [c for c in await uow.credentials.issued_to(user.id)
                    if c.superseded_at is None and c.expires_at > at(4, 7)]

    received = await run_at(harness, jobs, at(4, 7))  # day 3 was missed
    [notice] = received[citizen.telegram_id]
    assert notice.photo is not None
    assert notice.caption.startswith("No declaration was made yesterday, so your recovery count has started again: "
                                     "7 consecutive normal day(s) are now needed.")
    assert "Yellow code" in notice.caption and "Turns green on 2026-03-12" in notice.caption
    async with harness.services.database.unit_of_work() as uow:
        status = await uow.statuses.get(user.id)
        credentials = await uow.credentials.issued_to(user.id)
        notices = await uow.notices.list_for_user(user.id)
    assert status.evaluated_for == DAY0 + timedelta(days=4) and status.green_on == DAY0 + timedelta(days=10)
    assert [(n.kind, n.days_left) for n in notices] == [("missed_day", 7)]
    assert next(c for c in credentials if c.cti == before.cti).superseded_at == at(4, 7)
    assert len([c for c in credentials if c.superseded_at is None and c.expires_at > at(4, 7)]) == 1

    # The same day again (another process, or a restart): nothing is sent twice.
    assert await run_at(harness, jobs, at(4, 7, 30)) == {}


async def test_a_green_day_change_stores_today_and_says_nothing(harness: Harness, jobs: TimedJobs,
                                                               citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.declare(citizen)
    assert await run_at(harness, jobs, at(1, 7)) == {}
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        status = await uow.statuses.get(user.id)
    assert (status.colour, status.evaluated_for) == (Colour.GREEN, DAY0 + timedelta(days=1))


async def test_the_closed_day_is_counted_anonymously(harness: Harness, jobs: TimedJobs, citizen: LocalUser) -> None:
    other = LocalUser(20002, "Bob", "en")
    await harness.register(citizen)
    await harness.register(other, resident_id=VALID_IDS[1], region="110100")
    await harness.declare(citizen, temperature="38.0")
    await harness.declare(other)
    await run_at(harness, jobs, at(1, 7))
    async with harness.services.database.unit_of_work() as uow:
        counts = await uow.daily_counts.between(DAY0, DAY0 + timedelta(days=1))
    assert [(c.day, c.region_code, c.colour, c.codes, c.declared) for c in counts] == [
        (DAY0, "110100", "green", 1, 1), (DAY0, "330100", "yellow", 1, 1)]


async def test_a_day_change_taken_over_after_a_crash_finishes_without_repeating(
        harness: Harness, jobs: TimedJobs, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.declare(citizen, temperature="38.0")
    harness.clock.set(at(1, 9))
    await harness.declare(citizen)
    harness.clock.set(at(3, 0, 1))  # day 2 missed
    # A first process re-evaluated everyone and recorded the notice, then died before handing it over.
    await day_change.reevaluate_all(harness.services, DAY0 + timedelta(days=3), harness.clock.now())
    received = await run_at(harness, jobs, at(3, 0, 2))
    assert len(received[citizen.telegram_id]) == 1
    assert "recovery count has started again" in received[citizen.telegram_id][0].caption
