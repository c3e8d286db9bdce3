"""/reminders and the daily reminder, through the real Application, scheduler and delivery worker."""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.runtime import TimedJobs
from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from bot.services.reminders import parse_time
from tests.handlers.conftest import VALID_IDS, Harness, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    running.clock.set(at(0, 6))
    yield running
    await stop_harness(running)


@pytest.fixture
async def jobs(harness: Harness) -> TimedJobs:
    timed = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await timed.sync()
    return timed


async def run_at(harness: Harness, jobs: TimedJobs, instant: datetime, *, drain: bool = True) -> dict[int, list[SentMessage]]:
    first = len(harness.api.changes)
    harness.clock.set(instant)
    await jobs.run_due(drain=drain)
    received: dict[int, list[SentMessage]] = {}
    for key in dict.fromkeys(harness.api.changes[first:]):
        received.setdefault(key[0], []).append(harness.api.messages[key])
    return received


PEOPLE = {name: LocalUser(21000 + n, name, "en") for n, name in enumerate(("Ann", "Ben", "Cai", "Dee"))}


async def _register_all(harness: Harness) -> None:
    for n, user in enumerate(PEOPLE.values()):
        await harness.register(user, resident_id=VALID_IDS[n])


# --- /reminders -------------------------------------------------------------------------------


def test_times_are_read_forgivingly_and_checked() -> None:
    assert [parse_time(t) for t in ("7:30", "07:30", "0730", "7.30", "7：30", " 19:05 ")] == \
        ["07:30", "07:30", "07:30", "07:30", "07:30", "19:05"]
    assert [parse_time(t) for t in ("24:00", "7:60", "seven", "", "7")] == [None] * 5


async def test_reminders_menu_presets_off_on_and_default(harness: Harness) -> None:
    ann = PEOPLE["Ann"]
    await harness.register(ann)
    [menu] = await harness.say(ann, "/reminders")
    assert menu.text.startswith("You will be reminded every day at 08:00 (the default)")
    labels = [label for row in menu.buttons for label, _ in row]
    assert labels == ["07:00", "08:00", "09:00", "12:00", "18:00", "20:00", "Other time…", "Default (08:00)", "Turn off"]
    [chosen] = await harness.press(ann, "07:00")
    assert chosen.text == "You will be reminded every day at 07:00 if you have not declared by then."
    assert chosen.edits == 1
    assert (await harness.say(ann, "/reminders off"))[0].text.startswith("Daily reminders are off")
    [menu] = await harness.say(ann, "/reminders")
    assert "Turn on" in [label for row in menu.buttons for label, _ in row]
    [on] = await harness.press(ann, "Turn on")
    assert "every day at 07:00" in on.text  # turning on again keeps the chosen time
    assert "(the default)" in (await harness.say(ann, "/reminders default"))[0].text


async def test_an_own_time_can_be_typed(harness: Harness) -> None:
    ann = PEOPLE["Ann"]
    await harness.register(ann)
    await harness.say(ann, "/reminders")
    [ask] = await harness.press(ann, "Other time…")
    assert "24-hour time" in ask.text
    bad = await harness.say(ann, "half past seven")
    assert bad[0].text.startswith("“half past seven” is not a time of day")
    [done] = await harness.say(ann, "7.45")
    assert done.text == "You will be reminded every day at 07:45 if you have not declared by then."
    assert "Send /checkin" in (await harness.say(ann, "hello"))[0].text  # the flow is over
    assert (await harness.say(ann, "/reminders 25:00"))[0].text.startswith("“25:00” is not a time of day")


async def test_reminders_need_a_registration(harness: Harness) -> None:
    [reply] = await harness.say(PEOPLE["Ann"], "/reminders")
    assert "not registered" in reply.text


# --- the daily reminder -------------------------------------------------------------------------


async def test_the_reminder_reaches_only_those_who_have_not_declared(harness: Harness, jobs: TimedJobs) -> None:
    await _register_all(harness)
    ann, ben, cai, dee = PEOPLE.values()
    await harness.say(cai, "/reminders 07:30")
    await harness.say(dee, "/reminders off")
    harness.clock.set(at(0, 7))
    await harness.declare(ann)

    assert await run_at(harness, jobs, at(0, 7, 29)) == {}
    early = await run_at(harness, jobs, at(0, 7, 30))
    assert list(early) == [cai.telegram_id]
    [reminder] = early[cai.telegram_id]
    assert reminder.text == "Reminder: you have not declared your health for 2026-03-02 yet."
    assert [label for row in reminder.buttons for label, _ in row] == ["Declare today", "Reminder settings"]

    at_eight = await run_at(harness, jobs, at(0, 8))
    assert list(at_eight) == [ben.telegram_id]  # not Ann (declared), Cai (done), Dee (off)
    assert await run_at(harness, jobs, at(0, 12)) == {}  # once a day

    # The button starts today's declaration.
    [intro, ask] = await harness.chat.press_data(ben, at_eight[ben.telegram_id][0], "ci:start")
    assert intro.text == "Health declaration for 2026-03-02." and "temperature" in ask.text

    tomorrow = await run_at(harness, jobs, at(1, 8))
    assert set(tomorrow) == {ann.telegram_id, ben.telegram_id, cai.telegram_id}


async def test_yellow_and_red_are_told_the_days_left(harness: Harness, jobs: TimedJobs) -> None:
    await _register_all(harness)
    ann, ben = PEOPLE["Ann"], PEOPLE["Ben"]
    harness.clock.set(at(0, 9))
    await harness.declare(ann, temperature="38.1")
    await harness.declare(ben, contact=True)
    harness.clock.set(at(1, 9))
    await harness.declare(ann)
    received = await run_at(harness, jobs, at(2, 8))
    [to_ann] = received[ann.telegram_id]
    assert to_ann.text.endswith("Your code is Yellow: 6 more consecutive normal declaration(s) until it turns green, "
                                "today's included.")
    [to_ben] = received[ben.telegram_id]
    assert "Your code is Red: 14 more consecutive normal declaration(s)" in to_ben.text


async def test_someone_who_declares_before_the_reminder_is_sent_is_skipped(harness: Harness, jobs: TimedJobs) -> None:
    ann = PEOPLE["Ann"]
    await harness.register(ann)
    assert await run_at(harness, jobs, at(0, 8), drain=False) == {}  # handed to delivery, not yet sent
    harness.clock.set(at(0, 8, 1))
    await harness.declare(ann)
    first = len(harness.api.changes)
    assert await jobs.drain() == 1
    assert harness.api.changes[first:] == []
    async with harness.services.database.unit_of_work() as uow:
        [campaign] = await uow.deliveries.campaigns(kind="reminder")
        assert await uow.deliveries.statuses_by_recipient(campaign.id) == {ann.telegram_id: "skipped"}


async def test_no_reminder_for_someone_who_blocked_the_bot(harness: Harness, jobs: TimedJobs) -> None:
    ann, ben = PEOPLE["Ann"], PEOPLE["Ben"]
    await harness.register(ann)
    await harness.register(ben, resident_id=VALID_IDS[1])
    async with harness.services.database.unit_of_work() as uow:
        await uow.users.set_active(ann.telegram_id, False)
    assert list(await run_at(harness, jobs, at(0, 8))) == [ben.telegram_id]


async def test_under_a_decision_the_reminder_agrees_with_the_card(harness: Harness, jobs: TimedJobs) -> None:
    """Issue 9 item 20, the multi-week situation: yellow recovering, then a red decision. The card
    says green on 2026-03-09; the reminder said "Red: 12 more" (the red streak's count)."""
    from rules.model import Colour

    await _register_all(harness)
    ann = PEOPLE["Ann"]
    harness.clock.set(at(0, 9))
    await harness.declare(ann, temperature="38.2")
    for n in (1, 2):
        harness.clock.set(at(n, 9))
        await harness.declare(ann)
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(ann.telegram_id)
        await uow.decisions.add(user.id, Colour.RED, DAY0 + timedelta(days=2), 2, "contact traced by the CDC",
                                by=900001, now=harness.clock.now())
    received = (await run_at(harness, jobs, at(3, 8)))[ann.telegram_id]
    [to_ann] = [m for m in received if m.text and m.text.startswith("Reminder:")]
    [card] = [m for m in await harness.say(ann, "/status") if m.photo is not None]
    assert "Turns green on 2026-03-09" in card.caption
    assert "12 more" not in to_ann.text
    assert to_ann.text.endswith("Your code is Red by a health-authority decision until 2026-03-05: 5 more "
                                "consecutive normal declaration(s), today's included, and it turns green on 2026-03-09.")
