"""Checkpoint staff and on-site temperatures, end to end through the real Application: a manager names a
checkpoint and invites staff; staff scan a card (a photo of its QR) and record a temperature; a fever
turns the card yellow, the person is told with the checkpoint's name, and it is in their /mydata. A
reading without a scan (a forged reference, another's scan, a stale one) is refused and audited."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.local.chat import LocalUser
from rules.model import Colour
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    ADMIN,
    approved_organisation,
    audit,
    chat,
    drain,
    last_toast,
    press_data,
    register,
)

MANAGER = LocalUser(64001, "Manager", "en")
GUARD = LocalUser(64002, "Guard", "en")
OTHER_GUARD = LocalUser(64003, "Other", "en")
CITIZEN = LocalUser(64011, "Citizen", "en")
NOT_PERMITTED = "Not permitted. This has been logged."


async def _staffed_checkpoint(harness: Harness, name: str = "North Gate", *guards: LocalUser) -> int:
    await approved_organisation(harness, MANAGER)
    [created] = await harness.say(MANAGER, f"/checkpoint_new {name}")
    assert created.text.startswith(f"Checkpoint “{name}” created (Acme Ltd)")
    for guard in guards or (GUARD,):
        [invite] = await harness.press(MANAGER, f"Invite staff: {name}")
        code = re.search(r"Code: ([A-Z0-9]{8})", invite.text).group(1)
        await harness.say(guard, f"/checkpoint_join {code}")
        [joined] = await harness.press(guard, "Accept")
        assert joined.text.startswith(f"You are now staff of the checkpoint “{name}”")
    async with harness.services.database.unit_of_work() as uow:
        [checkpoint] = await uow.checkpoints.of_organisations([1])
    return checkpoint.id


async def _card(harness: Harness, citizen: LocalUser = CITIZEN, **declaration: object) -> bytes:
    await register(harness, citizen, 1, name="张三")
    return (await harness.declare(citizen, **declaration))[-1].photo


async def test_a_fever_reading_turns_the_card_yellow_and_tells_the_person(harness: Harness) -> None:
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    [verdict] = await harness.chat.send_photo(GUARD, card)
    assert verdict.body.splitlines()[0] == "✅ VALID · Green code" and "Name: 张*" in verdict.body
    assert [label for row in verdict.buttons for label, _ in row] == ["Record temperature (North Gate)"]
    [(_, data)] = [button for row in verdict.buttons for button in row]
    assert re.fullmatch(r"cpr:temp:[A-Z0-9]{12}", data)  # a random reference, nothing about the person
    [ask] = await harness.press(GUARD, "Record temperature (North Gate)")
    assert ask.text.startswith("Type the temperature you measured for 张*")
    [bad] = (await harness.say(GUARD, "hot"))[:1]
    assert bad.text == "Please send the temperature as a number, for example 36.6."
    [recorded] = await harness.say(GUARD, "38.1")
    assert recorded.text == "Temperature recorded for 张*. Code now: Yellow."
    assert "38.1" not in recorded.text and "张三" not in recorded.text
    assert await drain(harness) == 1
    notice = chat(harness, CITIZEN)[-1]
    assert notice.caption.startswith("A temperature of 38.1 °C was measured for you at the checkpoint “North Gate”")
    assert "Yellow code" in notice.caption
    assert "temperature 38.1 °C measured at North Gate" in notice.caption
    [status] = await harness.say(CITIZEN, "/status")
    assert "Yellow code" in status.caption
    # The old green card no longer verifies as green.
    [old] = await harness.chat.send_photo(GUARD, card)
    assert old.body.startswith("❌ NOT VALID: superseded")
    [entry] = await audit(harness, "checkpoint.reading")
    assert entry.actor_telegram_id == GUARD.telegram_id and entry.detail["abnormal"] is True
    # The statistics chart replays the reading too.
    from bot.services.administration.statistics import colour_history
    async with harness.services.database.unit_of_work() as uow:
        days, counts = await colour_history(harness.services, uow, harness.services.today())
    assert dict(counts[-1]) == {Colour.YELLOW: 1}
    assert "38.1" not in json.dumps(entry.detail)


async def test_a_normal_reading_changes_nothing_and_every_read_is_in_mydata(harness: Harness) -> None:
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    await harness.chat.send_photo(GUARD, card)
    await harness.press(GUARD, "Record temperature (North Gate)")
    [recorded] = await harness.say(GUARD, "36.5")
    assert recorded.text == "Temperature recorded for 张*. Code now: Green."
    assert await drain(harness) == 0  # nothing to tell: the code did not change
    messages = await harness.say(CITIZEN, "/mydata")
    summary = messages[0].text
    assert "by organisations, checkpoints and reviewers" in summary
    assert "North Gate" in summary and "measured your temperature" in summary
    assert "Temperatures measured at checkpoints: 1" in summary
    document = json.loads(messages[-1].document)
    assert document["checkpoint_readings"][0]["checkpoint"] == "North Gate"
    assert document["checkpoint_readings"][0]["temperature"] == "36.5"
    assert [a["what"] for a in document["access_log"]] == ["checkpoint_reading", "checkpoint_scan"]


async def test_a_reading_without_a_scan_is_refused_and_audited(harness: Harness) -> None:
    await _staffed_checkpoint(harness, "North Gate", GUARD, OTHER_GUARD)
    card = await _card(harness)
    # A forged reference: no scan behind it.
    await harness.say(GUARD, "/help")
    await press_data(harness, GUARD, "cpr:temp:ABCDEFGHJKLM")
    assert last_toast(harness).startswith("Not recorded: a temperature can only be recorded for a code you have just")
    # Another staff member's scan.
    [verdict] = await harness.chat.send_photo(GUARD, card)
    [(_, data)] = [button for row in verdict.buttons for button in row]
    await press_data(harness, OTHER_GUARD, data)
    assert last_toast(harness).startswith("Not recorded: this scan was made by another staff member")
    # A scan older than the window, even with the flow already started.
    await harness.press(GUARD, "Record temperature (North Gate)")
    harness.clock.advance(timedelta(minutes=6))
    [late] = await harness.say(GUARD, "38.5")
    assert late.text.startswith("Not recorded: the scan is more than 5 minutes old")
    # Someone who is not staff at all cannot press the button.
    await press_data(harness, CITIZEN, data)
    assert last_toast(harness) == NOT_PERMITTED
    refusals = [e.detail["why"] for e in await audit(harness, "checkpoint.reading_refused")]
    assert sorted(refusals) == ["expired", "no_scan", "other_staff"]
    assert [e.detail for e in await audit(harness, "denied")
            if e.actor_telegram_id == CITIZEN.telegram_id] == [{"attempt": "cpr:temp"}]
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        assert await uow.checkpoints.stored_for(user.id) == []
    [status] = await harness.say(CITIZEN, "/status")
    assert "Green code" in status.caption


async def test_a_revoked_staff_member_cannot_record(harness: Harness) -> None:
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    await harness.chat.send_photo(GUARD, card)
    await harness.press(GUARD, "Record temperature (North Gate)")
    await harness.say(MANAGER, "/checkpoints")
    [staff] = await harness.press(MANAGER, "Staff: North Gate")
    assert "1. appointed" in staff.text
    [revoked] = await harness.press(MANAGER, "Revoke staff member 1")
    assert revoked.text.startswith("Appointment revoked")
    [refused] = await harness.say(GUARD, "38.5")
    assert refused.text == NOT_PERMITTED  # the flow's requirement: no longer staff anywhere
    actions = {e.action for e in await audit(harness)}
    assert {"checkpoint.create", "checkpoint.invite_staff", "checkpoint.staff_added",
            "checkpoint.revoke_staff"} <= actions


async def test_invites_are_single_use_and_appointing_is_refused_outside_ones_own(harness: Harness) -> None:
    await _staffed_checkpoint(harness)
    [invite] = await harness.press(MANAGER, "Invite staff: North Gate")
    code = re.search(r"Code: ([A-Z0-9]{8})", invite.text).group(1)
    await harness.say(OTHER_GUARD, f"/checkpoint_join {code}")
    await harness.press(OTHER_GUARD, "Accept")
    await harness.say(CITIZEN, f"/checkpoint_join {code}")
    await harness.press(CITIZEN, "Accept")
    assert last_toast(harness) == NOT_PERMITTED  # used already
    [refused] = await harness.say(CITIZEN, "/checkpoint_new Back Door")
    assert refused.text == NOT_PERMITTED
    await press_data(harness, CITIZEN, "cpt:invite:1")
    assert last_toast(harness) == NOT_PERMITTED
    await press_data(harness, GUARD, "cpt:revoke:1")
    assert last_toast(harness) == NOT_PERMITTED


async def test_a_health_authority_names_a_checkpoint_in_its_scope(harness: Harness) -> None:
    [created] = await harness.say(ADMIN, "/checkpoint_new 330106 West Lake Station")
    assert created.text.startswith("Checkpoint “West Lake Station” created (330106)")
    [outside] = await harness.say(ADMIN, "/checkpoint_new 110105 Far Away")
    assert outside.text == NOT_PERMITTED
    [listed] = await harness.say(ADMIN, "/checkpoints")
    assert [label for row in listed.buttons for label, _ in row] == [
        "Invite staff: West Lake Station", "Staff: West Lake Station"]


async def test_the_use_case_serves_other_channels_and_a_verify_link_works_too(harness: Harness) -> None:
    """record_reading opens its own unit of work when no turn's is given (the Mini App's checkpoint mode);
    a /verify link scans like a photo; erasing the person erases their scans and readings."""
    from decimal import Decimal
    from sqlalchemy import func, select

    from bot.services.checkpoint_readings import record_reading
    from storage.models import CheckpointReadingRow, CheckpointScanRow
    from tests.web.conftest import token_of

    await _staffed_checkpoint(harness)
    card = await _card(harness)
    [verdict] = await harness.say(GUARD, f"/verify https://hc.example.cn/v/{token_of(card)}")
    [(_, data)] = [button for row in verdict.buttons for button in row]
    ref = data.rsplit(":", 1)[1]
    refused = await record_reading(harness.services, OTHER_GUARD.telegram_id, ref, Decimal("39.0"))
    assert refused.refusal == "other_staff"
    outcome = await record_reading(harness.services, GUARD.telegram_id, ref, Decimal("39.0"))
    assert outcome.recorded and outcome.abnormal and outcome.masked_name == "张*"
    assert outcome.colour is not None and outcome.colour.value == "yellow"
    [status] = await harness.say(CITIZEN, "/status")
    assert "Yellow code" in status.caption and "39.0 °C measured at North Gate" in status.caption
    await harness.say(CITIZEN, "/forget")
    await harness.press(CITIZEN, "Erase everything")
    async with harness.services.database.unit_of_work() as uow:
        for table in (CheckpointScanRow, CheckpointReadingRow):
            assert (await uow._session.execute(select(func.count()).select_from(table))).scalar_one() == 0
