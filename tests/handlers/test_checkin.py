"""Daily declaration end to end, including re-declaration and recovery over days."""
from __future__ import annotations

from datetime import date, timedelta

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness


async def test_normal_declaration_gives_green_card(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    replies = await harness.declare(citizen, temperature="36,6")
    assert replies[0].text == "Declaration for 2026-03-02 saved."
    card = replies[-1]
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    assert card.caption.startswith("张* · Green code")
    assert "Reason: all answers normal" in card.caption
    assert "Issued 2026-03-02 09:00 · valid until 2026-03-04 00:00" in card.caption
    assert "Turns green" not in card.caption


async def test_fever_gives_yellow_with_reason_and_green_date(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen, temperature="38.2", symptoms=("cough", "fever")))[-1]
    assert "Yellow code" in card.caption
    assert "Reason: temperature 38.2 °C" in card.caption
    assert "Turns green on 2026-03-09" in card.caption


async def test_red_answers_name_the_cause(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen, contact=True))[-1]
    assert "Red code" in card.caption and "close contact" in card.caption
    assert "Turns green on 2026-03-16" in card.caption


async def test_symptom_buttons_toggle_in_place(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    [symptoms] = await harness.say(citizen, "36.6")
    [edited] = await harness.chat.press_data(citizen, symptoms, "ci:sym:cough")
    assert edited.message_id == symptoms.message_id and edited.edits == 1
    labels = [label for row in edited.buttons for label, _ in row]
    assert "✅ cough" in labels and "▫️ fever" in labels
    [edited] = await harness.chat.press_data(citizen, edited, "ci:sym:cough")
    assert "▫️ cough" in [label for row in edited.buttons for label, _ in row]


async def test_declaring_again_the_same_day_replaces_and_reevaluates(harness: Harness, citizen: LocalUser) -> None:
    # Raising the risk the same day (issue 9 item 17 forbids only lowering it).
    await harness.register(citizen)
    first = (await harness.declare(citizen, temperature="36.5"))[-1]
    assert "Green code" in first.caption
    replies = await harness.declare(citizen, temperature="38.0")
    assert "replaces your earlier answers" in replies[0].text
    assert "Yellow code" in replies[-1].caption
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        declarations = await uow.declarations.list_between(user.id, date.min, date(2026, 3, 2))
    assert len(declarations) == 1 and str(declarations[0].answers.temperature) == "38.0"


async def test_a_same_day_redeclaration_cannot_clear_a_confirmed_case(harness: Harness, citizen: LocalUser) -> None:
    """Issue 9 item 17: red stays red the same day, its credential stays live, and the answer says
    an administrator can correct it."""
    await harness.register(citizen)
    red = (await harness.declare(citizen, diagnosis="confirmed"))[-1]
    assert "Red code" in red.caption
    replies = await harness.declare(citizen, temperature="36.5")
    assert all(m.photo is None for m in replies)
    assert "never a lower one" in replies[-1].text and "/correct" in replies[-1].text
    assert ("Dispute this code", "cor:start") in [b for row in replies[-1].buttons for b in row]
    [card] = [m for m in await harness.say(citizen, "/status") if m.photo is not None]
    assert "Red code" in card.caption
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        [declared] = await uow.declarations.list_between(user.id, date.min, date(2026, 3, 2))
        credentials = await uow.credentials.issued_to(user.id)
        assert await uow.conversations.get(citizen.telegram_id) is None
    assert declared.answers.diagnosis.value == "confirmed"
    assert len(credentials) == 1 and credentials[0].superseded_at is None
    # Suspected is red too, but less than confirmed: also refused. The next day is a new day.
    refused = await harness.declare(citizen, diagnosis="suspected")
    assert "never a lower one" in refused[-1].text
    harness.next_day()
    assert "Red code" in (await harness.declare(citizen))[-1].caption  # recovery takes 14 normal days


async def test_yellow_turns_green_on_the_seventh_normal_day(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.declare(citizen, temperature="37.5")
    for day in range(1, 8):
        harness.next_day()
        card = (await harness.declare(citizen))[-1]
        if day < 7:
            assert "Yellow code" in card.caption, day
            assert f"{7 - day} more normal day" in card.caption
        else:
            assert "Green code" in card.caption
            assert "recovered" in card.caption


async def test_missed_day_restarts_the_count(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.declare(citizen, temperature="37.5")
    harness.next_day()
    await harness.declare(citizen)
    harness.next_day(2)  # skipped a day
    card = (await harness.declare(citizen))[-1]
    expected = harness.clock.now().date() + timedelta(days=6)
    assert "Yellow code" in card.caption and f"Turns green on {expected:%Y-%m-%d}" in card.caption


async def test_same_day_same_status_reuses_the_uploaded_image(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    first = (await harness.declare(citizen))[-1]
    [second] = await harness.say(citizen, "/status")
    assert second.photo_file_id == first.photo_file_id
    uploads = [c for c in harness.api.calls_to("sendPhoto") if "photo" in c.files]
    assert len(uploads) == 1


async def test_status_before_any_declaration_invites_one(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    [reply] = await harness.say(citizen, "/status")
    assert "no health code yet" in reply.text and reply.photo is None


async def test_cancel_leaves_the_flow_and_keeps_nothing(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    await harness.say(citizen, "38.9")
    [cancelled] = await harness.say(citizen, "/cancel")
    assert cancelled.text == "Cancelled today's declaration. Nothing from it was kept."
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        assert await uow.declarations.list_between(user.id, date.min, date(2026, 3, 2)) == []
        assert await uow.conversations.get(citizen.telegram_id) is None
    [nothing] = await harness.say(citizen, "/cancel")
    assert nothing.text == "There is nothing to cancel."


async def test_a_declaration_confirmed_after_midnight_is_not_filed_under_the_new_day(
    harness: Harness, citizen: LocalUser
) -> None:
    await harness.register(citizen)
    await harness.say(citizen, "/checkin")
    await harness.say(citizen, "38.0")
    target = harness.chat.latest_with_buttons(citizen)
    for data in ("ci:sym:done", "ci:contact:no", "ci:travel:none", "ci:diag:none"):
        await harness.chat.press_data(citizen, target, data)
    harness.next_day()
    replies = await harness.press(citizen, "Confirm")
    assert "The day changed before you confirmed" in replies[0].text
    assert replies[-1].text.startswith("Your body temperature")
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(citizen.telegram_id)
        assert await uow.declarations.list_between(user.id, date.min, date(2026, 3, 3)) == []
