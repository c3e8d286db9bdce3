"""Organisations end to end: request, approval, invite codes and links, joining and leaving, managers."""
from __future__ import annotations

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    ADMIN,
    approved_organisation,
    audit,
    chat,
    credit_code,
    drain,
    join,
    last_toast,
    press_data,
    register,
    request_organisation,
)

MANAGER = LocalUser(60001, "Manager", "en")
MEMBER = LocalUser(60002, "Member", "en")
OTHER = LocalUser(60003, "Other", "en")


async def test_a_request_is_checked_and_waits_for_an_administrator(harness: Harness) -> None:
    await harness.say(MANAGER, "/org_new")
    [error, again] = await harness.say(MANAGER, "   ")
    assert error.text == "The name is empty. Please type the organisation's name." and "registered name" in again.text
    await harness.say(MANAGER, "Acme  Ltd")
    bad = credit_code(1)[:-1] + ("0" if credit_code(1)[-1] != "0" else "1")
    [error, again] = await harness.say(MANAGER, bad)
    assert "check character does not match" in error.text and "credit code" in again.text
    [summary] = await harness.say(MANAGER, credit_code(1).lower())
    assert f"Unified social credit code: {credit_code(1)}" in summary.text and "Name: Acme Ltd" in summary.text
    [sent] = await harness.press(MANAGER, "Submit for approval")
    assert "was sent to the administrators" in sent.text
    assert await drain(harness) == 1
    [notice] = chat(harness, ADMIN)
    assert "Organisation request #1" in notice.text and credit_code(1) in notice.text
    assert [label for row in notice.buttons for label, _ in row] == ["Approve", "Reject"]
    [header, listed] = await harness.say(ADMIN, "/orgs_pending")
    assert header.text == "1 request(s) waiting:" and "Acme Ltd" in listed.text
    assert [e.action for e in await audit(harness, "org.request")] == ["org.request"]


async def test_approval_makes_the_requester_manager_with_code_and_link(harness: Harness) -> None:
    organisation_id = await request_organisation(harness, MANAGER)
    await drain(harness)
    [approved] = await harness.chat.press(ADMIN, "Approve")
    assert approved.text.startswith("Approved: Acme Ltd")
    await drain(harness)
    message = chat(harness, MANAGER)[-1]
    async with harness.services.database.unit_of_work() as uow:
        organisation = await uow.organisations.get(organisation_id)
        assert await uow.organisations.is_manager(organisation_id, MANAGER.telegram_id)
    assert organisation.status == "approved" and len(organisation.invite_code) == 8
    assert "was approved" in message.text and organisation.invite_code in message.text
    assert f"https://t.me/healthcode_bot?start=join_{organisation.invite_code}" in message.text
    # The same request cannot be decided twice (a second administrator, or a stale button).
    await press_data(harness, ADMIN, f"orgadm:reject:{organisation_id}")
    assert last_toast(harness) == "Already decided."
    assert [e.target for e in await audit(harness, "org.approve")] == [f"org:{organisation_id}"]


async def test_rejection_is_told_and_the_code_may_be_requested_again(harness: Harness) -> None:
    organisation_id = await request_organisation(harness, MANAGER)
    await press_data(harness, ADMIN, f"orgadm:reject:{organisation_id}")
    await drain(harness)
    assert "was not approved" in chat(harness, MANAGER)[-1].text
    again = await request_organisation(harness, MANAGER)
    assert again != organisation_id
    # While that one waits, the same code cannot be requested a third time.
    await harness.say(OTHER, "/org_new")
    await harness.say(OTHER, "Acme Copy")
    await harness.say(OTHER, credit_code(1))
    [refused] = await harness.press(OTHER, "Submit for approval")
    assert "already waiting for approval" in refused.text


async def test_joining_needs_registration_and_shows_exactly_what_the_employer_sees(harness: Harness) -> None:
    _, code = await approved_organisation(harness, MANAGER)
    [first] = await harness.say(MEMBER, f"/join {code}")
    assert "register first" in first.text and f"/join {code}" in first.text
    await register(harness, MEMBER, 1, name="王小明")
    [unknown] = await harness.say(MEMBER, "/join NOSUCH99")
    assert "no organisation with that code" in unknown.text
    [consent] = await harness.say(MEMBER, f"/join {code.lower()}")
    assert "the colour of your health code" in consent.text and "whether you declared today" in consent.text
    assert "your masked name: 王**" in consent.text
    assert "never see your ID number, your phone number or your health answers" in consent.text
    [joined] = await harness.press(MEMBER, "Join")
    assert joined.text.startswith("You are now a member of Acme Ltd")
    [already] = await harness.say(MEMBER, f"/join {code}")
    assert already.text == "You are already a member of Acme Ltd."


async def test_declining_shares_nothing(harness: Harness) -> None:
    organisation_id, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    await harness.say(MEMBER, f"/join {code}")
    [declined] = await harness.press(MEMBER, "Don't join")
    assert declined.text == "You did not join. Nothing was shared."
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow.memberships.summary(organisation_id, harness.services.today())).members == 0


async def test_the_deep_link_starts_the_consent_step(harness: Harness) -> None:
    _, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    [consent] = await harness.say(MEMBER, f"/start join_{code}")
    assert consent.text.startswith("Join Acme Ltd?")
    await harness.press(MEMBER, "Join")
    # A plain /start still means registration.
    [plain] = await harness.say(MEMBER, "/start")
    assert "already registered" in plain.text


async def test_leave_ends_the_membership_and_its_old_button_is_refused(harness: Harness) -> None:
    organisation_id, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    await join(harness, MEMBER, code)
    [choose] = await harness.say(MEMBER, "/leave")
    assert [label for row in choose.buttons for label, _ in row] == ["Leave Acme Ltd"]
    [left] = await harness.press(MEMBER, "Leave Acme Ltd")
    assert left.text == "You left Acme Ltd. It no longer sees your code."
    await harness.chat.press_data(MEMBER, choose, f"leave:org:{organisation_id}")  # the same button again
    assert last_toast(harness) == "Not permitted. This has been logged."
    [denied] = await audit(harness, "denied")
    assert denied.actor_telegram_id == MEMBER.telegram_id and denied.detail == {"attempt": "leave"}
    [none] = await harness.say(MEMBER, "/leave")
    assert none.text == "You are not a member of any organisation."


async def test_a_rotated_code_stops_working_even_on_an_open_consent_button(harness: Harness) -> None:
    organisation_id, code = await approved_organisation(harness, MANAGER)
    await register(harness, MEMBER, 1)
    [consent] = await harness.say(MEMBER, f"/join {code}")
    [overview] = await harness.say(MANAGER, "/org")
    assert code in overview.text
    replies = await harness.press(MANAGER, "Replace the code")
    async with harness.services.database.unit_of_work() as uow:
        new_code = (await uow.organisations.get(organisation_id)).invite_code
    assert new_code != code and any(new_code in m.text for m in replies)
    await harness.chat.press_data(MEMBER, consent, f"join:yes:{code}")
    assert last_toast(harness) == "Not permitted. This has been logged."
    [unknown] = await harness.say(MEMBER, f"/join {code}")
    assert "no organisation with that code" in unknown.text
    [joined] = await join(harness, MEMBER, new_code)
    assert "now a member" in joined.text


async def test_further_managers_by_single_use_invite_and_stepping_down(harness: Harness) -> None:
    organisation_id, _ = await approved_organisation(harness, MANAGER)
    await harness.say(MANAGER, "/org")
    [last_one] = await harness.press(MANAGER, "Step down as manager")
    assert "only manager" in last_one.text
    await harness.say(MANAGER, "/org")
    [invite] = await harness.press(MANAGER, "Invite a manager")
    code = invite.text.split("/manage ")[1].strip()
    assert f"https://t.me/healthcode_bot?start=mgr_{code}" in invite.text
    [offer] = await harness.say(OTHER, f"/start mgr_{code}")
    assert "Managers see each member's code colour" in offer.text
    [accepted] = await harness.press(OTHER, "Accept")
    assert accepted.text.startswith("You are now a manager of Acme Ltd")
    await harness.say(MEMBER, f"/manage {code}")
    await harness.press(MEMBER, "Accept")
    assert last_toast(harness) == "Not permitted. This has been logged."  # single use
    [staff] = await harness.say(OTHER, "/staff")
    await harness.say(OTHER, "/org")
    [gone] = await harness.press(OTHER, "Step down as manager")
    assert gone.text == "You are no longer a manager of Acme Ltd."
    # The staff page buttons OTHER still has are refused now that the role has ended.
    await harness.chat.press_data(OTHER, staff, f"staff:page:{organisation_id}.0.0")
    assert last_toast(harness) == "Not permitted. This has been logged."
    assert {"staff:page", "manager_invite"} <= {e.detail["attempt"] for e in await audit(harness, "denied")}


async def test_help_lists_what_each_role_may_use(harness: Harness) -> None:
    await approved_organisation(harness, MANAGER)
    [citizen_help] = await harness.say(OTHER, "/help")
    assert "/join CODE" in citizen_help.text and "/staff" not in citizen_help.text
    assert "/broadcast" not in citizen_help.text
    [manager_help] = await harness.say(MANAGER, "/help")
    assert "/staff_export" in manager_help.text and "/broadcast" not in manager_help.text
    [admin_help] = await harness.say(ADMIN, "/help")
    assert "/override USER COLOUR DAYS REASON" in admin_help.text and "/riskareas" in admin_help.text
