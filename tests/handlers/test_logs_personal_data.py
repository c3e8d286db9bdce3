"""Logs never hold personal data: a scripted session through every flow, logging at DEBUG.

The session registers (with corrections), declares abnormal answers, changes language, cancels,
sets reminders, renews consent, exports and erases data, has a QR card checked, lets a fortnight
of scheduled jobs run (day changes, notices, reminders, retention), and finally sends every other
command the bot knows, as a citizen and as an administrator. Then every captured log record
(message, arguments and traceback) is searched for the names, ID numbers, phone numbers,
temperatures and symptom answers used.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jobs.retention import apply_retention
from bot.jobs.runtime import TimedJobs
from bot.local.chat import LocalUser
from bot.services import conversation, registration
from rules.model import Colour
from tests.handlers.conftest import ADMIN_ID, VALID_IDS, start_harness, stop_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME, CORRECTED_NAME, OTHER_NAME = "欧阳明日", "欧阳明月", "Wilhelmina Quixote"
RESIDENT_ID, OTHER_ID = VALID_IDS[2], VALID_IDS[3]
PHONE, CORRECTED_PHONE, OTHER_PHONE = "13912345678", "13698765432", "15011112222"
TEMPERATURES = ("39.4", "37.6", "38.85")
SYMPTOMS = ("loss_of_taste_or_smell", "shortness_of_breath", "loss of taste or smell", "shortness of breath")
DECISION_REASON = "traced at the Huanan market"


def at(day: int, hour: int) -> datetime:
    return datetime.combine(date(2026, 3, 2) + timedelta(days=day), time(hour), tzinfo=SHANGHAI).astimezone(timezone.utc)


def _secrets() -> list[str]:
    return [
        NAME, CORRECTED_NAME, OTHER_NAME, RESIDENT_ID, RESIDENT_ID[:17], OTHER_ID, OTHER_ID[:17],
        PHONE, PHONE[3:], CORRECTED_PHONE, CORRECTED_PHONE[3:], OTHER_PHONE, OTHER_PHONE[3:],
        *TEMPERATURES, *SYMPTOMS, DECISION_REASON,
    ]


async def test_a_whole_session_at_debug_logs_no_personal_data(tmp_path: Path, database_url: str,
                                                              caplog: pytest.LogCaptureFixture,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await start_harness(tmp_path, database_url)
    harness.clock.set(at(0, 9))
    jobs = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await jobs.sync()
    me, other, admin = LocalUser(40010, "Ouyang", "en"), LocalUser(40011, "Willa", "en"), LocalUser(ADMIN_ID, "Admin", "en")
    try:
        # Registration, with corrections at the summary and a rejected duplicate ID.
        await harness.say(me, "/start")
        await harness.press(me, "I agree")
        for line in (NAME, "12345", RESIDENT_ID, "999", PHONE, "330100"):
            await harness.say(me, line)
        await harness.press(me, "Edit name")
        await harness.say(me, CORRECTED_NAME)
        await harness.press(me, "Edit mobile")
        await harness.say(me, CORRECTED_PHONE)
        await harness.press(me, "Confirm")
        await harness.say(other, "/start")
        await harness.press(other, "I agree")
        await harness.say(other, OTHER_NAME)
        await harness.say(other, RESIDENT_ID)  # taken: refused
        await harness.say(other, OTHER_ID)
        await harness.say(other, OTHER_PHONE)
        await harness.say(other, "110100")
        await harness.press(other, "Confirm")

        # Declarations: bad input, abnormal answers, a cancelled one, language switches.
        await harness.say(me, "/checkin")
        await harness.say(me, "forty")
        await harness.say(me, "/cancel")
        card = (await harness.declare(me, temperature=TEMPERATURES[0], symptoms=SYMPTOMS[:2], contact=True,
                                      travel="medium", diagnosis="suspected"))[-1]
        await harness.declare(other, temperature=TEMPERATURES[1], symptoms=("shortness_of_breath",))
        await harness.say(me, "/language zh-CN")
        await harness.say(me, "/status")
        await harness.press(me, "刷新")
        await harness.say(me, "/language en")
        await harness.chat.send_photo(other, card.photo)  # a checkpoint checks the card
        await harness.chat.send_sticker(me)

        # Reminders, typed and pressed.
        await harness.say(me, "/reminders")
        await harness.press(me, "Other time…")
        await harness.say(me, "7.45")
        await harness.say(other, "/reminders off")

        # A decision, then a fortnight of day changes, notices, reminders and retention.
        async with harness.services.database.unit_of_work() as uow:
            user = await uow.users.get_by_telegram_id(other.telegram_id)
            await uow.decisions.add(user.id, Colour.RED, at(1, 9).astimezone(SHANGHAI).date(), 2, DECISION_REASON,
                                    by=ADMIN_ID, now=harness.clock.now())
        for day in range(1, 15):
            harness.clock.set(at(day, 9))
            await jobs.run_due()
            if day % 3:
                await harness.declare(me, temperature=TEMPERATURES[2] if day == 1 else "36.6")
        await apply_retention(harness.services, at(14, 9).astimezone(SHANGHAI).date(), harness.clock.now(),
                              retention_days=3)

        # A new privacy notice: accepted again before declaring.
        monkeypatch.setattr(registration, "PRIVACY_NOTICE_VERSION", "2099-01-01")
        await harness.say(me, "/checkin")
        await harness.press(me, "I agree")
        await harness.say(me, "/cancel")

        # Every other command, as a citizen and as an administrator, leaving any flow it opens.
        await harness.say(admin, "/language en")
        for command in sorted(conversation.COMMANDS):
            if command in ("forget", "cancel"):
                continue
            for user in (me, admin):
                await harness.say(user, f"/{command}")
                await harness.say(user, "/cancel")

        # Data rights: export, then erasure; and a stranger asking for both.
        await harness.say(me, "/mydata")
        await harness.say(me, "/forget")
        await harness.press(me, "Erase everything")
        stranger = LocalUser(40012, "Nobody", "en")
        await harness.say(stranger, "/mydata")
        await harness.say(stranger, "/forget")
        await harness.press(stranger, "Erase everything")
    finally:
        await stop_harness(harness)

    records = caplog.records
    turns = [r for r in records if r.name == "healthcode.turns" and r.levelno == logging.DEBUG]
    assert len(turns) > 100  # DEBUG logging really was on, for every update
    assert any(r.name == "healthcode.scheduler" for r in records)  # and the jobs logged too
    captured = "\n".join(f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    for secret in _secrets():
        assert secret not in captured, secret
