"""Every step re-asks with a specific message; odd content gets a helpful reply; nothing crashes."""
from __future__ import annotations

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import VALID_IDS, Harness


async def _at_step(harness: Harness, user: LocalUser, answers: tuple[str, ...]) -> None:
    await harness.say(user, "/start")
    await harness.press(user, "I agree")
    for answer in answers:
        await harness.say(user, answer)


@pytest.mark.parametrize(
    ("answers", "bad", "expected"),
    [
        ((), "x" * 51, "That name is too long: at most 50 characters."),
        ((), "   ", "The name is empty"),
        (("张三",), "12345", "exactly 18 characters"),
        (("张三",), "11010519491231002A", "17 digits followed by a digit or X"),
        (("张三",), "110105194912310021", "check character does not match"),
        (("张三",), "110105199902300015", "not a real date in the past"),
        (("张三",), "000105194912310024", "valid province code"),
        (("张三", VALID_IDS[0]), "1380013800", "11 digits"),
        (("张三", VALID_IDS[0]), "12800138000", "starts with 13–19"),
        (("张三", VALID_IDS[0]), "138-0013-800a", "digits only"),
        (("张三", VALID_IDS[0], "13800138000"), "3301", "6 digits"),
        (("张三", VALID_IDS[0], "13800138000"), "999999", "no region with that code"),
    ],
)
async def test_each_registration_step_reasks_with_the_reason(
    harness: Harness, citizen: LocalUser, answers: tuple[str, ...], bad: str, expected: str
) -> None:
    await _at_step(harness, citizen, answers)
    replies = await harness.say(citizen, bad)
    assert expected in replies[0].text
    assert len(replies) == 2  # the reason, then the same question again
    async with harness.services.database.unit_of_work() as uow:
        state = await uow.conversations.get(citizen.telegram_id)
    assert state is not None and state.flow == "register"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [("hot", "as a number"), ("33.9", "outside 34.0–43.0"), ("43.1", "outside 34.0–43.0"), ("NaN", "as a number")],
)
async def test_temperature_is_reasked_with_the_reason(harness: Harness, citizen: LocalUser, bad: str, expected: str) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    replies = await harness.say(citizen, bad)
    assert expected in replies[0].text
    assert replies[1].text.startswith("Your body temperature")


async def test_text_at_a_button_step_points_to_the_buttons(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    await harness.say(citizen, "36.6")
    replies = await harness.say(citizen, "no symptoms thanks")
    assert replies[0].text == "Please answer with the buttons below."
    assert replies[1].buttons  # the symptom keyboard again


async def test_names_with_markup_and_emoji_are_kept_verbatim(harness: Harness, citizen: LocalUser) -> None:
    name = "<b>Tom</b> & Jerry 🐭"
    await _at_step(harness, citizen, (name, VALID_IDS[1], "13800138000"))
    [summary] = await harness.say(citizen, "330100")
    assert f"Name: {name}" in summary.text
    sent = harness.api.calls_to("sendMessage")[-1]
    assert "parse_mode" not in sent.params  # plain text: nothing is interpreted as markup


async def test_stickers_and_voice_outside_a_flow_get_help(harness: Harness, citizen: LocalUser) -> None:
    [reply, hint] = await harness.chat.send_sticker(citizen)
    assert reply.text == "I can't read a sticker here."
    assert "not registered" in hint.text
    await harness.register(citizen)
    [voice, hint] = await harness.chat.send_voice(citizen)
    assert voice.text == "I can't read a voice message here."
    assert "/checkin" in hint.text


async def test_sticker_or_photo_inside_a_flow_reminds_where_the_user_is(harness: Harness, citizen: LocalUser) -> None:
    await _at_step(harness, citizen, ())
    [reply, reminder] = await harness.chat.send_sticker(citizen)
    assert "in the middle of registration" in reminder.text
    [reply, reminder] = await harness.chat.send_photo(citizen, b"\x89PNG not really")
    assert reply.text == "I can't read a photo here."
    assert "in the middle of registration" in reminder.text


async def test_free_text_outside_a_flow_and_unknown_commands(harness: Harness, citizen: LocalUser) -> None:
    [reply] = await harness.say(citizen, "hello?")
    assert "not registered" in reply.text
    replies = await harness.say(citizen, "/frobnicate")
    assert replies[0].text == "Unknown command /frobnicate."
    assert "/checkin" in replies[1].text


async def test_stale_buttons_are_answered_not_obeyed(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    [symptoms] = await harness.say(citizen, "36.6")
    await harness.say(citizen, "/cancel")
    replies = await harness.chat.press_data(citizen, symptoms, "ci:sym:done")
    assert replies == []
    answer = harness.api.calls_to("answerCallbackQuery")[-1]
    assert answer.params["text"] == "That button is no longer active."
    for forged in ("ci:diag:zombie", "reg:city:999999", "nonsense", "reg:confirm"):
        assert await harness.chat.press_data(citizen, symptoms, forged) == []


async def test_cancel_during_registration_keeps_nothing(harness: Harness, citizen: LocalUser) -> None:
    await _at_step(harness, citizen, ("张三", VALID_IDS[0]))
    await harness.say(citizen, "/cancel")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.conversations.get(citizen.telegram_id) is None
        assert await uow.users.get_by_telegram_id(citizen.telegram_id) is None
    # The ID number is free again: nothing half-saved holds it.
    await harness.register(LocalUser(20009, "Other", "en"), resident_id=VALID_IDS[0])


async def test_an_edited_earlier_answer_is_not_taken_as_the_current_one(harness: Harness, citizen: LocalUser) -> None:
    await _at_step(harness, citizen, ("张三",))
    [reply] = await harness.chat.edit_text(citizen, 1, "张三丰")
    assert reply.text.startswith("Edited messages are not read")
    async with harness.services.database.unit_of_work() as uow:
        state = await uow.conversations.get(citizen.telegram_id)
    assert state.step == "resident_id" and state.draft["name"] == "张三"


async def test_buttons_of_an_older_notice_or_summary_cannot_reset_a_draft(harness: Harness, citizen: LocalUser) -> None:
    [notice] = await harness.say(citizen, "/start")
    await harness.press(citizen, "I agree")
    await harness.say(citizen, "张三")
    assert await harness.chat.press_data(citizen, notice, "reg:consent:yes") == []
    assert await harness.chat.press_data(citizen, notice, "reg:edit:region") == []  # edits only from the summary
    async with harness.services.database.unit_of_work() as uow:
        state = await uow.conversations.get(citizen.telegram_id)
    assert state.step == "resident_id" and state.draft["name"] == "张三"
