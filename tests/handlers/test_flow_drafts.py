"""The citizen's flows as declared state machines: typed drafts that still read what was stored before."""
from __future__ import annotations

from typing import Any

from bot.local.chat import LocalUser
from bot.services import checkin, registration
from storage.records import ConversationState
from tests.handlers.conftest import VALID_IDS, Harness


async def _store(harness: Harness, user: LocalUser, flow: str, step: str, draft: dict[str, Any]) -> None:
    async with harness.services.database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(user.telegram_id, flow, step, draft), harness.clock.now())


def test_the_check_in_reads_as_one_state_machine() -> None:
    assert [step.name for step in checkin.CHECKIN.steps] == [
        "whom", "offer", "same_temperature", "temperature", "symptoms", "contact", "travel", "diagnosis", "confirm"]
    assert [step.name for step in registration.REGISTRATION.steps] == [
        "name", "resident_id", "phone", "region", "confirm"]
    # Only the temperatures and the registration's fields are typed; every other step takes buttons.
    assert [step.name for step in checkin.CHECKIN.steps if step.text] == ["same_temperature", "temperature"]


async def test_a_check_in_draft_stored_as_a_dict_before_the_upgrade_is_confirmed(harness: Harness,
                                                                                  citizen: LocalUser) -> None:
    await harness.register(citizen)
    [intro, question] = await harness.say(citizen, "/checkin")
    await _store(harness, citizen, "checkin", "travel", {
        "day": "2026-03-02", "temperature": "37.1", "symptoms": ["cough"], "contact": "no",
        "offered": [["420100", "high"]], "visited": [],
    })
    [ticked] = await harness.chat.press_data(citizen, question, "ci:area:420100")
    assert "✅" in ticked.buttons[0][0][0]
    await harness.chat.press_data(citizen, ticked, "ci:area:done")
    *_, summary = await harness.chat.press_data(citizen, harness.chat.latest_with_buttons(citizen), "ci:diag:none")
    assert "37.1" in summary.text and "cough" in summary.text
    replies = await harness.chat.press_data(citizen, summary, "ci:confirm")
    assert replies[0].text == "Declaration for 2026-03-02 saved."
    assert "Yellow code" in replies[-1].caption  # the cough
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        [declared] = await uow.declarations.list_between(user.id, harness.clock.now().date(), harness.clock.now().date())
    assert declared.answers.visited == frozenset({"420100"}) and str(declared.answers.temperature) == "37.1"


async def test_a_registration_draft_stored_as_a_dict_before_the_upgrade_is_confirmed(harness: Harness,
                                                                                      citizen: LocalUser) -> None:
    [notice] = await harness.say(citizen, "/start")
    await _store(harness, citizen, "register", "confirm", {
        "consented_at": "2026-03-02T01:00:00+00:00", "consent_version": registration.PRIVACY_NOTICE_VERSION,
        "name": "张三", "resident_id": VALID_IDS[0], "phone": "13800138000", "region": "330100", "editing": True,
    })
    [done] = await harness.chat.press_data(citizen, notice, "reg:confirm")
    assert "registered" in done.text.lower()
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
    assert user is not None and user.region_code == "330100"
    assert user.consented_at.isoformat() == "2026-03-02T01:00:00+00:00"


async def test_a_press_from_another_step_is_stale_and_changes_nothing(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    [symptoms] = await harness.say(citizen, "36.6")
    for early in ("ci:contact:yes", "ci:diag:confirmed", "ci:confirm", "ci:area:done", "ci:sym:purple"):
        assert await harness.chat.press_data(citizen, symptoms, early) == [], early
    async with harness.services.database.unit_of_work() as uow:
        state = await uow.conversations.get(citizen.telegram_id)
    assert state is not None and state.step == "symptoms" and state.draft["symptoms"] == []
