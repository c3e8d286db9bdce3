"""The Mini App's checkpoint mode over real HTTP: appointed staff scan through the chat's own path (the
scan is stored and in the holder's access log alike) and record the temperature on the verdict screen
through the chat's use case: same validator, same messages, same audited refusals."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_checkpoint_readings import CITIZEN, GUARD, OTHER_GUARD, _card, _staffed_checkpoint
from tests.handlers.test_org_fixtures import ADMIN, audit, chat, drain
from tests.web.conftest import Site, token_of
from tests.web.miniapp_support import auth


async def _scan(site: Site, staff: LocalUser, card: bytes) -> dict:
    status, body = await site.post_json("/app/api/scan", {"c": f"https://hc.example.cn/v/{token_of(card)}"},
                                        headers=auth(site.harness, staff))
    assert status == 200, body
    return body


async def _read(site: Site, staff: LocalUser, ref: object, temperature: object) -> tuple[int, dict]:
    return await site.post_json("/app/api/reading", {"ref": ref, "temperature": temperature},
                                headers=auth(site.harness, staff))


async def _access_log(harness: Harness) -> list[str]:
    messages = await harness.say(CITIZEN, "/mydata")
    return [entry["what"] for entry in json.loads(messages[-1].document)["access_log"]]


async def test_a_staff_scan_then_a_fever_reading_turns_the_person_yellow(site: Site) -> None:
    harness = site.harness
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    status, body = await site.get_json("/app/api/status", headers=auth(harness, GUARD))
    assert body["checkpoint"] is True  # appointed staff get the checkpoint mode, not only administrators
    scanned = await _scan(site, GUARD, card)
    assert scanned["verdict"][0] == "✅ VALID · Green code" and any("张*" in line for line in scanned["verdict"])
    assert scanned["temperature_allowed"] is True and scanned["checkpoint"] == "North Gate"
    assert re.fullmatch(r"[A-Z0-9]{12}", scanned["ref"])  # random: nothing about the person
    assert "张三" not in json.dumps(scanned, ensure_ascii=False)
    assert await _access_log(harness) == ["checkpoint_scan"]  # exactly as a chat scan

    status, body = await _read(site, GUARD, scanned["ref"], "38.4")
    assert status == 200, body
    assert body == {"recorded": True, "message": "Temperature recorded for 张*. Code now: Yellow.", "problems": {},
                    "colour": "yellow", "colour_text": "Yellow code", "masked_name": "张*"}
    assert await drain(harness) == 1
    notice = chat(harness, CITIZEN)[-1]
    assert notice.caption.startswith("A temperature of 38.4 °C was measured for you at the checkpoint “North Gate”")
    assert "Yellow code" in notice.caption
    [entry] = await audit(harness, "checkpoint.reading")
    assert entry.actor_telegram_id == GUARD.telegram_id and entry.detail["abnormal"] is True
    assert await _access_log(harness) == ["checkpoint_reading", "checkpoint_scan"]


async def test_readings_without_ones_own_recent_scan_are_refused_and_audited(site: Site) -> None:
    harness = site.harness
    await _staffed_checkpoint(harness, "North Gate", GUARD, OTHER_GUARD)
    card = await _card(harness)
    status, body = await _read(site, GUARD, "ABCDEFGHJKLM", "38.4")  # no scan behind it
    assert status == 403 and body["recorded"] is False
    assert body["message"].startswith("Not recorded: a temperature can only be recorded for a code you have just")
    assert (await _read(site, GUARD, "x" * 5000, "38.4"))[0] == 403  # any other shape: no scan either
    ref = (await _scan(site, GUARD, card))["ref"]
    status, body = await _read(site, OTHER_GUARD, ref, "38.4")
    assert status == 403 and body["message"].startswith("Not recorded: this scan was made by another staff member")
    harness.clock.advance(timedelta(minutes=6))
    status, body = await _read(site, GUARD, ref, "38.4")
    assert status == 403 and body["message"].startswith("Not recorded: the scan is more than 5 minutes old")
    refusals = [e.detail["why"] for e in await audit(harness, "checkpoint.reading_refused")]
    assert sorted(refusals) == ["expired", "no_scan", "no_scan", "other_staff"]
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        assert await uow.checkpoints.stored_for(user.id) == []


async def test_someone_not_staff_may_not_record_and_an_administrators_scan_offers_no_field(site: Site) -> None:
    harness = site.harness
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    ref = (await _scan(site, GUARD, card))["ref"]
    status, body = await _read(site, CITIZEN, ref, "38.4")
    assert status == 403 and body == {"recorded": False, "message": "Recording temperatures is for checkpoint staff.",
                                      "problems": {}, "colour": None, "colour_text": None, "masked_name": None}
    assert [e.detail for e in await audit(harness, "denied")
            if e.actor_telegram_id == CITIZEN.telegram_id] == [{"attempt": "miniapp:reading"}]
    scanned = await _scan(site, ADMIN, card)  # an administrator, staff of no checkpoint: the verdict only
    assert scanned["temperature_allowed"] is False and scanned["ref"] is None
    [status_card] = await harness.say(CITIZEN, "/status")
    assert "Green code" in status_card.caption


async def test_bad_input_gets_the_chats_message_by_the_field_and_the_scan_stays_usable(site: Site) -> None:
    harness = site.harness
    await _staffed_checkpoint(harness)
    card = await _card(harness)
    ref = (await _scan(site, GUARD, card))["ref"]
    not_a_number = "Please send the temperature as a number, for example 36.6."
    for typed in ("hot", "", None, 38.4, ["38"], "9" * 5000):
        status, body = await _read(site, GUARD, ref, typed)
        assert status == 422 and body["recorded"] is False, (typed, body)
        assert body["problems"] == {"temperature": not_a_number}, typed
    status, body = await _read(site, GUARD, ref, "45")
    assert status == 422 and body["problems"] == {
        "temperature": "That temperature is outside 34.0–43.0 °C. Please measure again and send the reading."}
    async with site.http.post(site.url + "/app/api/reading", data=b"[1]", headers=auth(harness, GUARD)) as response:
        assert response.status == 400
    assert (await site.post_json("/app/api/reading", {"ref": ref, "temperature": "38"}))[0] == 401
    status, body = await _read(site, GUARD, ref, "36,6")  # the chat's validator: a comma works
    assert status == 200 and body["colour"] == "green" and body["message"].endswith("Code now: Green.")
    assert await drain(harness) == 0
