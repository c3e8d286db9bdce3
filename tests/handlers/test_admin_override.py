"""/override: a health-authority decision forces a colour for N days, is shown, notified, audited, expires."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.local.chat import LocalUser
from storage.models import CredentialRow
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import ADMIN, audit, chat, drain, phone, register, resident_id, today

CITIZEN = LocalUser(63001, "Citizen", "en")
REASON = "Close contact traced by the CDC"


async def _credentials(harness: Harness) -> list:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow._session.execute(select(CredentialRow).order_by(CredentialRow.issued_at))).scalars().all()


async def test_override_by_phone_forces_the_colour_supersedes_and_notifies(harness: Harness) -> None:
    await register(harness, CITIZEN, 1, name="张三")
    green = (await harness.declare(CITIZEN))[-1]
    assert "Green code" in green.caption
    [confirm] = await harness.say(ADMIN, f"/override {phone(1)} red 14 {REASON}")
    assert "Citizen: 张* · 3301**********" + resident_id(1)[-4:] + " · 138****0001" in confirm.text
    until = today(harness) + timedelta(days=13)
    assert f"Code: Red for 14 day(s), until {until:%Y-%m-%d}" in confirm.text and REASON in confirm.text
    [recorded] = await harness.press(ADMIN, "Confirm")
    assert recorded.text.startswith("Decision recorded: 张* has a Red code until")
    credentials = {row.colour: row for row in await _credentials(harness)}
    assert set(credentials) == {"green", "red"}
    assert credentials["green"].superseded_at is not None and credentials["red"].superseded_at is None
    assert await drain(harness) == 1
    card = chat(harness, CITIZEN)[-1]
    assert card.photo is not None
    assert card.caption.startswith(f"The health authority set your code to Red until {until:%Y-%m-%d}.\nReason: {REASON}")
    assert "张* · Red code" in card.caption
    assert f"Reason: health-authority decision until {until.isoformat()}: {REASON}" in card.caption
    [status] = await harness.say(CITIZEN, "/status")
    assert "Red code" in status.caption and REASON in status.caption
    [entry] = await audit(harness, "decision.record")
    assert entry.actor_telegram_id == ADMIN.telegram_id and entry.detail["colour"] == "red" and entry.detail["days"] == 14
    assert REASON not in str(entry.detail) and phone(1) not in str(entry.detail)


async def test_the_decision_expires_by_itself(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.declare(CITIZEN)
    await harness.say(ADMIN, f"/override {phone(1)} yellow 2 quarantine at home")
    await harness.press(ADMIN, "Confirm")
    harness.next_day()
    [still] = await harness.say(CITIZEN, "/status")
    assert "Yellow code" in still.caption
    harness.next_day()
    [lifted] = await harness.say(CITIZEN, "/status")
    assert "Green code" in lifted.caption and "quarantine" not in lifted.caption


async def test_override_by_masked_or_full_id(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    masked = resident_id(1)[:4] + "*" * 10 + resident_id(1)[-4:]
    [confirm] = await harness.say(ADMIN, f"/override {masked} yellow 3 sampling result pending")
    assert "Code: Yellow for 3 day(s)" in confirm.text
    [cancelled] = await harness.press(ADMIN, "Cancel")
    assert cancelled.text == "No decision recorded."
    [confirm] = await harness.say(ADMIN, f"/override {resident_id(1).lower()} 红 1 核酸阳性复核")
    assert "Code: Red for 1 day(s)" in confirm.text
    await harness.press(ADMIN, "Confirm")
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        [decision] = await uow.decisions.for_user(user.id)
    assert decision.reason == "核酸阳性复核"


async def test_a_masked_id_shared_by_two_people_is_not_guessed(harness: Harness) -> None:
    pairs = {}
    for n in range(400):
        pairs.setdefault(resident_id(n)[-4:], []).append(n)
    first, second = next(ns for ns in pairs.values() if len(ns) >= 2)[:2]
    await register(harness, CITIZEN, first)
    await register(harness, LocalUser(63002, "Twin", "en"), second, name="李四")
    masked = resident_id(first)[:4] + "**********" + resident_id(first)[-4:]
    [reply] = await harness.say(ADMIN, f"/override {masked} red 14 tracing")
    assert reply.text == "2 citizens match that masked ID. Use the mobile number or the full ID number instead."


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("", "Usage: /override USER COLOUR DAYS REASON"),
        ("13800000001 purple 3 x", "The colour must be green, yellow or red."),
        ("13800000001 red 0 x", "DAYS must be a whole number from 1 to 365."),
        ("13800000001 red 400 x", "DAYS must be a whole number from 1 to 365."),
        ("hello red 3 x", "USER must be a mobile number"),
        ("13900000000 red 3 x", "No registered citizen matches."),
    ],
)
async def test_bad_overrides_say_what_is_wrong(harness: Harness, arguments: str, expected: str) -> None:
    await register(harness, CITIZEN, 1)
    replies = await harness.say(ADMIN, f"/override {arguments}".strip())
    assert replies[0].text.startswith(expected)
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        assert await uow.decisions.for_user(user.id) == []
