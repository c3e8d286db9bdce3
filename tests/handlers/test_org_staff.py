"""What managers see: /staff (paginated), /staff_export (CSV), /remind_staff, and the access log."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    add_citizens,
    approved_organisation,
    audit,
    chat,
    drain,
    join,
    join_directly,
    last_toast,
    register,
    resident_id,
    today,
)
from tests.table_reads import access_log_count

MANAGER = LocalUser(61001, "Manager", "en")
SECOND_MANAGER = LocalUser(61002, "Boss", "en")
ALICE = LocalUser(61011, "Alice", "en")
BOB = LocalUser(61012, "Bob", "en")
CAROL = LocalUser(61013, "Carol", "en")


async def _team(harness: Harness) -> int:
    """Acme with three members: Alice green today, Bob yellow today, Carol not declared."""
    organisation_id, code = await approved_organisation(harness, MANAGER)
    for n, (user, name) in enumerate(((ALICE, "Alice Wong"), (BOB, "张伟"), (CAROL, "=HYPERLINK(\"http://x\")"))):
        await register(harness, user, 100 + n, name=name)
        await join(harness, user, code)
    await harness.declare(ALICE)
    await harness.declare(BOB, temperature="38.2")
    return organisation_id


async def test_staff_shows_counts_and_masked_lists_only(harness: Harness) -> None:
    organisation_id = await _team(harness)
    [view] = await harness.say(MANAGER, "/staff")
    text = view.text
    assert f"Acme Ltd — {today(harness):%Y-%m-%d}" in text
    assert "Members: 3 · declared today: 2" in text
    assert "Green 1 · Yellow 1 · Red 0 · no code yet 1" in text
    assert "Not declared today (1) — page 1/1:\n=H***" in text
    assert "Code not green (1) — page 1/1:\n张* (Yellow)" in text
    for secret in ("Alice Wong", "张伟", resident_id(100), "13800000100", "38.2"):
        assert secret not in text, secret
    async with harness.services.database.unit_of_work() as uow:
        alice = await uow.users.get_by_telegram_id(ALICE.telegram_id)
        [entry] = await uow.access_log.for_user(alice.id)
    assert (entry.organisation_id, entry.reader_telegram_id, entry.what) == (
        organisation_id, MANAGER.telegram_id, "staff_summary")


async def test_large_organisations_page_with_buttons_and_each_page_is_logged(harness: Harness) -> None:
    organisation_id, _ = await approved_organisation(harness, MANAGER)
    members = await add_citizens(harness, 45, names=[f"Member{n:02d}" for n in range(45)])
    await join_directly(harness, organisation_id, members)
    [view] = await harness.say(MANAGER, "/staff")
    assert "Not declared today (45) — page 1/3:" in view.text and "Me***" in view.text
    labels = [label for row in view.buttons for label, _ in row]
    assert labels == ["not declared »", "Spreadsheet (CSV)", "Remind those not declared"]
    [page2] = await harness.press(MANAGER, "not declared »")
    assert page2.message_id == view.message_id and "page 2/3" in page2.text
    assert [label for row in page2.buttons for label, _ in row][:2] == ["« not declared", "not declared »"]
    [page3] = await harness.press(MANAGER, "not declared »")
    assert "page 3/3" in page3.text and page3.text.count("Me***") == 5
    async with harness.services.database.unit_of_work() as uow:
        assert await access_log_count(uow, organisation_id, "staff_summary") == 45
        assert await access_log_count(uow, organisation_id, "staff_list") == 20 + 5


async def test_a_manager_sees_only_their_own_organisations(harness: Harness) -> None:
    ours = await _team(harness)
    theirs, _ = await approved_organisation(harness, SECOND_MANAGER, n=2, name="Other Co")
    [refused] = await harness.say(MANAGER, f"/staff {theirs}")
    assert refused.text == "Not permitted. This has been logged."
    [view] = await harness.say(MANAGER, f"/staff {ours}")
    await harness.chat.press_data(MANAGER, view, f"staff:page:{theirs}.1.0")  # a forged button
    assert last_toast(harness) == "Not permitted. This has been logged."
    await harness.chat.press_data(MANAGER, view, f"staff:export:{theirs}")
    assert last_toast(harness) == "Not permitted. This has been logged."
    attempts = [e.detail["attempt"] for e in await audit(harness, "denied") if e.actor_telegram_id == MANAGER.telegram_id]
    assert attempts == ["staff:export", "staff:page", "/staff"]
    async with harness.services.database.unit_of_work() as uow:
        assert await access_log_count(uow, theirs) == 0


async def test_a_manager_of_two_organisations_chooses(harness: Harness) -> None:
    first = await _team(harness)
    async with harness.services.database.unit_of_work() as uow:
        second = await uow.organisations.request("Second Site", "91330106000000002X", MANAGER.telegram_id,
                                                 harness.clock.now())
        await uow.organisations.decide(second.id, approve=True, by=1, now=harness.clock.now(), invite_code="SECOND22")
        await uow.organisations.add_manager(second.id, MANAGER.telegram_id, by=1, now=harness.clock.now())
    [choose] = await harness.say(MANAGER, "/staff")
    assert [label for row in choose.buttons for label, _ in row] == ["Acme Ltd", "Second Site"]
    [view] = await harness.press(MANAGER, "Acme Ltd")
    assert "Members: 3" in view.text
    assert first != second.id


@pytest.mark.parametrize("command", ["/staff", "/staff_export", "/remind_staff", "/org"])
async def test_a_citizen_cannot_use_employer_commands(harness: Harness, command: str) -> None:
    await register(harness, ALICE, 1)
    [refused] = await harness.say(ALICE, command)
    assert refused.text == "Not permitted. This has been logged."
    [entry] = await audit(harness, "denied")
    assert entry.actor_telegram_id == ALICE.telegram_id and entry.detail == {"attempt": command}


async def test_the_export_is_excel_safe_and_reads_back(harness: Harness) -> None:
    organisation_id = await _team(harness)
    harness.next_day()
    await harness.declare(BOB)
    [document] = await harness.say(MANAGER, "/staff_export")
    assert "3 member(s)" in document.caption
    raw = document.document
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for Excel"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    yesterday = (today(harness) - timedelta(days=1)).isoformat()
    assert rows == [
        ["Name (masked)", "Code colour", "Declared today", "Last declaration"],
        ["Al***", "Green", "no", yesterday],
        ["张*", "Yellow", "yes", today(harness).isoformat()],
        ["'=H***", "no code yet", "no", ""],
    ]
    async with harness.services.database.unit_of_work() as uow:
        assert await access_log_count(uow, organisation_id, "staff_export") == 3


@pytest.mark.parametrize("name", ["=1+2", "+CMD", "-2+3", "@SUM(A1)", "\tTab", "\rReturn"])
async def test_every_formula_trigger_is_neutralised(harness: Harness, name: str) -> None:
    from bot.services.staff import neutralise

    assert neutralise(name).startswith("'") and neutralise(name)[1:] == name
    assert neutralise("张*") == "张*" and neutralise("Al***") == "Al***"


async def test_remind_staff_nudges_only_the_undeclared_once_a_day(harness: Harness) -> None:
    organisation_id = await _team(harness)
    [told] = await harness.say(MANAGER, "/remind_staff")
    assert told.text == "Reminder going out to 1 member(s) of Acme Ltd who have not declared today."
    assert await drain(harness) == 1
    nudge = chat(harness, CAROL)[-1]
    assert nudge.text == "Acme Ltd reminds you to declare today's health."
    assert [label for row in nudge.buttons for label, _ in row] == ["Declare today"]
    assert "reminds you" not in chat(harness, ALICE)[-1].body
    [again] = await harness.say(MANAGER, "/remind_staff")
    assert again.text == "Acme Ltd was already reminded today. Reminders can be sent once a day."
    harness.next_day()
    await harness.declare(ALICE)
    await harness.declare(BOB)
    await harness.declare(CAROL)
    [nobody] = await harness.say(MANAGER, "/remind_staff")
    assert nobody.text == "Everyone in Acme Ltd has declared today: no reminder needed."
    async with harness.services.database.unit_of_work() as uow:
        assert await access_log_count(uow, organisation_id, "staff_reminder") == 1


async def test_a_member_who_declares_before_the_nudge_goes_out_is_skipped(harness: Harness) -> None:
    await _team(harness)
    await harness.say(MANAGER, "/remind_staff")
    await harness.declare(CAROL)  # before the worker sends
    await drain(harness)
    assert all("reminds you" not in m.body for m in chat(harness, CAROL))
    async with harness.services.database.unit_of_work() as uow:
        [campaign] = await uow.deliveries.campaigns(kind="org_nudge")
        assert (await uow.deliveries.progress(campaign.id)).skipped == 1


async def test_a_member_who_left_is_no_longer_seen(harness: Harness) -> None:
    await _team(harness)
    await harness.say(BOB, "/leave")
    await harness.press(BOB, "Leave Acme Ltd")
    [view] = await harness.say(MANAGER, "/staff")
    assert "Members: 2" in view.text and "张*" not in view.text
