"""The organisation feature's typed buttons: today's wire strings, forged and foreign presses, the
/org_new flow's buttons only inside the flow."""
from __future__ import annotations

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    approved_organisation,
    audit,
    credit_code,
    join,
    last_toast,
    press_data,
    register,
)
from tests.table_reads import access_log_count

MANAGER = LocalUser(63001, "Manager", "en")
RIVAL = LocalUser(63002, "Rival", "en")  # manages another organisation
MEMBER = LocalUser(63011, "Member", "en")
NOT_PERMITTED = "Not permitted. This has been logged."
STALE = "That button is no longer active."
INTERNAL_ERROR = "something went wrong"


def _data(message) -> list[str]:
    return [data for row in message.buttons for _, data in row]


async def test_the_buttons_keep_their_wire_strings(harness: Harness) -> None:
    """Buttons already sent before the move to typed callback data must still mean the same."""
    organisation_id, code = await approved_organisation(harness, MANAGER)
    [overview] = await harness.say(MANAGER, "/org")
    assert _data(overview) == [f"staff:page:{organisation_id}.0.0", f"org:rotate:{organisation_id}",
                               f"org:manager:{organisation_id}", f"org:resign:{organisation_id}"]
    [staff] = await harness.say(MANAGER, "/staff")
    assert _data(staff) == [f"staff:export:{organisation_id}", f"staff:remind:{organisation_id}"]
    await register(harness, MEMBER, 1)
    [consent] = await harness.say(MEMBER, f"/join {code}")
    assert _data(consent) == [f"join:yes:{code}", f"join:no:{code}"]
    await harness.press(MEMBER, "Join")
    [choose] = await harness.say(MEMBER, "/leave")
    assert _data(choose) == [f"leave:org:{organisation_id}"]
    [offer] = await harness.say(MEMBER, "/manage k7m2qw9p")
    assert _data(offer) == ["mgr:yes:K7M2QW9P", "mgr:no:-"]
    await harness.say(RIVAL, "/org_new")
    await harness.say(RIVAL, "Other Co")
    [summary] = await harness.say(RIVAL, credit_code(2))
    assert _data(summary) == ["org:kind:school", "org:kind:community", "org:submit", "org:abandon"]


# A garbled organisation id names no organisation: refused and audited like a press for someone else's
# (as tests/handlers/test_numeric_arguments.py has it), never an internal error, never a half-parsed id.
FORGED = [
    ("leave:org:²", MEMBER, "leave"),
    ("leave:org:99999999999999999999", MEMBER, "leave"),
    ("staff:page:99999999999999999999.0.0", MANAGER, "staff:page"),
    ("staff:page:²³.0.0", MANAGER, "staff:page"),
    ("staff:show:²", MANAGER, "staff:show"),
    ("staff:remind:" + "9" * 30, MANAGER, "staff:remind"),
    ("org:manager:²", MANAGER, "org:manager"),
    ("org:resign:-1", MANAGER, "org:resign"),
]


@pytest.mark.parametrize(("data", "sender", "named"), FORGED, ids=[case[0] for case in FORGED])
async def test_a_forged_organisation_id_is_refused_and_audited(harness: Harness, data: str, sender: LocalUser,
                                                               named: str) -> None:
    _, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    await join(harness, MEMBER, code)
    replies = await press_data(harness, sender, data)
    assert last_toast(harness) == NOT_PERMITTED
    assert not any(INTERNAL_ERROR in m.text for m in replies)
    [entry] = await audit(harness, "denied")
    assert (entry.actor_telegram_id, entry.detail) == (sender.telegram_id, {"attempt": named})


@pytest.mark.parametrize("data", ["join:yes:" + "K7M2QW9P" * 2, "join:yes", "mgr:yes:ABCDEFGHJ", "org:submit:1"])
async def test_a_forged_press_of_a_family_without_an_organisation_is_a_stale_button(harness: Harness,
                                                                                    data: str) -> None:
    await register(harness, MEMBER, 1)
    await press_data(harness, MEMBER, data)
    assert last_toast(harness) == STALE
    assert await audit(harness, "denied") == []


@pytest.mark.parametrize("family", ["org:rotate", "org:manager", "org:resign", "staff:show", "staff:remind"])
async def test_a_press_for_an_organisation_the_sender_does_not_manage_is_refused(harness: Harness,
                                                                               family: str) -> None:
    ours, code = await approved_organisation(harness, MANAGER)
    await approved_organisation(harness, RIVAL, n=2, name="Other Co")
    await register(harness, MEMBER, 1)
    await join(harness, MEMBER, code)
    await press_data(harness, RIVAL, f"{family}:{ours}")
    assert last_toast(harness) == NOT_PERMITTED
    [entry] = await audit(harness, "denied")
    assert (entry.actor_telegram_id, entry.detail) == (RIVAL.telegram_id, {"attempt": family})
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.organisations.get(ours)).invite_code == code  # nothing rotated
        assert await uow.organisations.manager_count(ours) == 1  # nobody stepped down
        assert not await uow.organisations.is_manager(ours, RIVAL.telegram_id)
        assert await access_log_count(uow, ours) == 0  # nothing read
    assert [e.action for e in await audit(harness) if e.actor_telegram_id == RIVAL.telegram_id
            and e.action.startswith("org.") and e.action != "org.request"] == []


async def test_the_request_buttons_count_only_inside_the_request(harness: Harness) -> None:
    await harness.say(MANAGER, "/org_new")
    await harness.say(MANAGER, "Acme Ltd")
    [summary] = await harness.say(MANAGER, credit_code(1))
    [again, shown] = await harness.say(MANAGER, "yes please")  # text at the confirm step
    assert again.text == "Please answer with the buttons below."
    assert "Name: Acme Ltd" in shown.text and _data(shown) == _data(summary)
    [abandoned] = await harness.press(MANAGER, "Cancel")
    assert abandoned.text == "Request cancelled. Nothing was stored."
    await harness.chat.press_data(MANAGER, summary, "org:submit")  # the old summary's button
    assert last_toast(harness) == STALE
    await harness.chat.press_data(MANAGER, summary, "org:abandon")
    assert last_toast(harness) == STALE
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.organisations.pending() == []


async def test_a_request_draft_stored_before_the_typed_draft_still_submits(harness: Harness) -> None:
    from storage.records import ConversationState

    async with harness.services.database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(MANAGER.telegram_id, "org_new", "confirm",
                                                       {"name": "Acme Ltd", "credit_code": credit_code(1)}),
                                     harness.clock.now())
    [sent] = await press_data(harness, MANAGER, "org:submit")
    assert "was sent to the administrators" in sent.text
    async with harness.services.database.unit_of_work() as uow:
        [pending] = await uow.organisations.pending()
    assert (pending.name, pending.credit_code) == ("Acme Ltd", credit_code(1))
