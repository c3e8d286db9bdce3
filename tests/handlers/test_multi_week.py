"""A month in the life of the bot, on an injectable clock, with every timed job running as scheduled.

Seven people, 31 days. Each day the clock stops at 07:00 (after the day change and retention
have run), at 08:00 (the default reminder time) and at 09:00 (when most people declare):

* Yan   fever on day 0, then normal every day: yellow, green on day 7.
* Rui   close contact on day 0, then normal every day: red, green on day 14.
* Mo    fever on day 0, normal days 1-3, misses day 4 (told the count restarts), then normal: green on day 11.
* Dan   normal every day; a health-authority decision makes the code red on days 2-4; it expires on day 5.
* Kai   close contact on day 0, then normal every other day: red all month, so retention keeps day 0.
* Quinn declares every day at 07:00, before the reminder: never reminded.
* Nora  registers and never declares: reminded every day.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.runtime import TimedJobs
from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from rules.model import Colour
from tests.handlers.conftest import ADMIN_ID, Harness, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)
DAYS = 31
IDS = ("11010519491231002X", "310115199212124560", "33010619900101123X", "330102198505053214",
       "110101199001011237", "110101199001014550", "11010119900101821X")
NAMES = ("Yan", "Rui", "Mo", "Dan", "Kai", "Quinn", "Nora")
PEOPLE = {name: LocalUser(22000 + n, name, "en") for n, name in enumerate(NAMES)}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY0 + timedelta(days=day), time(hour, minute), tzinfo=SHANGHAI).astimezone(timezone.utc)


def declares_at_nine(name: str, day: int) -> bool:
    return {
        "Yan": True, "Rui": True, "Dan": True, "Mo": day != 4, "Kai": day % 2 == 0, "Quinn": False, "Nora": False,
    }[name]


def answers_of(name: str, day: int) -> dict:
    if day == 0 and name in ("Yan", "Mo"):
        return {"temperature": "38.3", "symptoms": ("fever",)}
    if day == 0 and name in ("Rui", "Kai"):
        return {"contact": True}
    return {}


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    running.clock.set(at(0, 6))
    yield running
    await stop_harness(running)


class Month:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.jobs = TimedJobs(harness.services, harness.application.bot, rate=1000)
        self.cards: dict[tuple[str, int], SentMessage] = {}
        self.notices: dict[tuple[str, int], list[SentMessage]] = {}
        self.reminded: dict[int, set[str]] = {}

    async def run_jobs_at(self, instant: datetime) -> dict[str, list[SentMessage]]:
        api = self.harness.api
        first = len(api.changes)
        self.harness.clock.set(instant)
        await self.jobs.run_due()
        by_chat = {user.telegram_id: name for name, user in PEOPLE.items()}
        received: dict[str, list[SentMessage]] = {}
        for key in dict.fromkeys(api.changes[first:]):
            received.setdefault(by_chat[key[0]], []).append(api.messages[key])
        return received

    async def declare(self, name: str, day: int) -> None:
        replies = await self.harness.declare(PEOPLE[name], **answers_of(name, day))
        self.cards[(name, day)] = replies[-1]

    async def live(self, day: int) -> None:
        harness = self.harness
        for name, messages in (await self.run_jobs_at(at(day, 7))).items():
            self.notices[(name, day)] = messages
        harness.clock.set(at(day, 7, 10))
        await self.declare("Quinn", day)
        reminders = await self.run_jobs_at(at(day, 8))
        self.reminded[day] = set(reminders)
        for name, messages in reminders.items():
            assert len(messages) == 1 and messages[0].text.startswith("Reminder:"), (name, day)
        harness.clock.set(at(day, 9))
        for name in NAMES:
            if declares_at_nine(name, day):
                await self.declare(name, day)
        if day == 2:
            await self.decide_red_for_dan(days=3)

    async def decide_red_for_dan(self, days: int) -> None:
        self.harness.clock.set(at(2, 10))
        async with self.harness.services.database.unit_of_work() as uow:
            dan = await uow.users.get_by_telegram_id(PEOPLE["Dan"].telegram_id)
            await uow.decisions.add(dan.id, Colour.RED, DAY0 + timedelta(days=2), days, "traced contact",
                                    by=ADMIN_ID, now=self.harness.clock.now())

    def colour_on(self, name: str, day: int) -> str:
        caption = self.cards[(name, day)].caption
        return next(colour for colour in ("Green", "Yellow", "Red") if f"{colour} code" in caption)


async def test_a_month_of_codes_reminders_notices_and_retention(harness: Harness) -> None:
    for n, name in enumerate(NAMES):
        await harness.register(PEOPLE[name], name=name, resident_id=IDS[n])
    month = Month(harness)
    await month.jobs.sync()
    for day in range(DAYS):
        await month.live(day)

    # Yellow recovers on day 7, red on day 14, each the day its streak completes.
    assert [month.colour_on("Yan", d) for d in (0, 6, 7)] == ["Yellow", "Yellow", "Green"]
    assert "Turns green on 2026-03-09" in month.cards[("Yan", 6)].caption
    assert "recovered" in month.cards[("Yan", 7)].caption
    assert [month.colour_on("Rui", d) for d in (0, 13, 14)] == ["Red", "Red", "Green"]

    # A missed day restarts the count, and the day change says so (with the current card).
    [missed] = month.notices[("Mo", 5)]
    assert missed.caption.startswith("No declaration was made yesterday") and "7 consecutive" in missed.caption
    assert "Yellow code" in missed.caption and "Turns green on 2026-03-13" in missed.caption
    assert [month.colour_on("Mo", d) for d in (10, 11)] == ["Yellow", "Green"]

    # The decision turns Dan red from day 2 and expires by itself after day 4, both announced with a card.
    [imposed] = month.notices[("Dan", 3)]
    assert "Red code" in imposed.caption
    assert month.colour_on("Dan", 4) == "Red"
    [lifted] = month.notices[("Dan", 5)]
    assert lifted.caption.startswith("The health-authority decision on your code has ended.")
    assert "Green code" in lifted.caption
    assert month.colour_on("Dan", 5) == "Green"

    # Kai's one-day streak breaks every other day, and each time he is told; nobody else got a notice.
    kai_days = list(range(4, DAYS, 2))
    assert sorted(month.notices) == sorted([("Dan", 3), ("Dan", 5), ("Mo", 5), *(("Kai", d) for d in kai_days)])
    assert all(month.notices[("Kai", d)][0].caption.startswith("No declaration was made yesterday") for d in kai_days)

    # Reminders reach exactly those who have not declared by 08:00.
    for day in range(DAYS):
        expected = {"Nora", *(name for name in ("Yan", "Rui", "Mo", "Dan", "Kai"))}
        assert month.reminded[day] == expected, day
    assert "Quinn" not in set().union(*month.reminded.values())

    # Kai is still red: a red code that never completed its streak.
    assert month.colour_on("Kai", 30) == "Red"

    # Retention: on day 30 declarations before day 2 are gone, except Kai's red day and what follows.
    services = harness.services
    async with services.database.unit_of_work() as uow:
        kept = {}
        for name in ("Yan", "Kai", "Quinn"):
            user = await uow.users.get_by_telegram_id(PEOPLE[name].telegram_id)
            kept[name] = [d.day for d in await uow.declarations.list_between(user.id, date.min, DAY0 + timedelta(days=30))]
    assert kept["Yan"][0] == DAY0 + timedelta(days=2) and len(kept["Yan"]) == 29
    assert kept["Quinn"][0] == DAY0 + timedelta(days=2)
    assert kept["Kai"][0] == DAY0 and len(kept["Kai"]) == 16
    assert (await harness.say(PEOPLE["Kai"], "/status"))[-1].caption.count("Red code") == 1

    # Every job ran once per occurrence: one day change and one retention run a day. (Run records
    # older than the retention period are themselves deleted: day 1's are gone.)
    async with services.database.unit_of_work() as uow:
        runs = await uow.schedules.runs()
    for job, at_time in (("day_change", time(0, 0)), ("retention", time(3, 30))):
        due = [r.due_at for r in runs if r.job_name == job]
        expected = [datetime.combine(DAY0 + timedelta(days=d), at_time, tzinfo=SHANGHAI).astimezone(timezone.utc)
                    for d in range(2, DAYS)]
        assert due == expected, job
    assert all(r.state == "done" and r.attempt == 1 for r in runs)
