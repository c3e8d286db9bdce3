"""Correction requests end to end: filing from the card, the reviewer's view and decision, the new card,
the deadline job's reminder and escalation on a moved clock, scope refusals, /mydata and erasure."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from PIL import Image

from bot.jobs.runtime import TimedJobs
from bot.local.chat import LocalUser
from rules.authority import Role
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import ADMIN, audit, chat, drain, phone, press_data, register, resident_id

CITIZEN = LocalUser(64001, "Citizen", "en")
COUNTY_REVIEWER = LocalUser(64100, "County", "en")
OTHER_COUNTY_REVIEWER = LocalUser(64101, "Elsewhere", "en")
CITY_REVIEWER = LocalUser(64102, "City", "en")
STRANGER = LocalUser(64200, "Stranger", "en")
COUNTY = "330106"  # Xihu district, inside the issuer's Hangzhou (330100)
CITY = "330100"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def county_reviewers(harness: Harness) -> None:
    """Reviewers held in the database below the root, appointed by the root administrator: the county's
    (the nearest level), the city's above it, and a neighbouring county's."""
    async with harness.services.database.unit_of_work() as uow:
        for reviewer, scope in ((COUNTY_REVIEWER, COUNTY), (CITY_REVIEWER, CITY), (OTHER_COUNTY_REVIEWER, "330102")):
            await uow.administrators.appoint(reviewer.telegram_id, Role.REVIEWER, scope, by=ADMIN.telegram_id,
                                             now=harness.clock.now())


async def _file_declaration_dispute(harness: Harness, *, photo: bool = False) -> None:
    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "a declaration")
    await harness.press(CITIZEN, 1)  # the latest declared day
    await harness.say(CITIZEN, "I tapped 'confirmed case' by mistake; my test was negative.")
    if photo:
        [refused] = await harness.chat.send_photo(CITIZEN, b"%PDF-1.4 not a picture", as_document=True,
                                                  filename="scan.pdf")
        assert refused.text.startswith("That file cannot be used as evidence")
        [filed] = await harness.chat.send_photo(CITIZEN, _png())
    else:
        [filed] = await harness.press(CITIZEN, "No photo, send the request")
    assert "Correction request #1 filed" in filed.text


async def test_a_correction_from_filing_to_decision_to_a_new_card(harness: Harness) -> None:
    await register(harness, CITIZEN, 1, name="王小明")
    red = (await harness.declare(CITIZEN, diagnosis="confirmed"))[-1]
    assert "Red code" in red.caption
    assert ("Dispute this code", "cor:start") in [b for row in red.buttons for b in row]
    await _file_declaration_dispute(harness, photo=True)
    [status] = await harness.say(CITIZEN, "/status")
    assert "Correction request #1 (a declaration): submitted" in status.caption

    assert await drain(harness) == 1  # the reviewers in scope (here the root administrator) are told
    notice = chat(harness, ADMIN)[-1]
    assert notice.text.startswith("New correction request #1: a declaration") and "王" not in notice.text
    opened = await harness.press(ADMIN, "Review request #1")
    details = "\n".join(m.text or m.caption or "" for m in opened)
    assert "from 王** (" in details or "from 王* (" in details
    assert "Rule: confirmed case" in details and "Confirmed case" in details  # the rule, the day, the answer
    assert resident_id(1) not in details and phone(1) not in details
    evidence = [m for m in opened if m.photo_file_id]
    assert evidence and evidence[0].caption == "Evidence attached to request #1"
    [entry] = await audit(harness, "correction.read")
    assert entry.actor_telegram_id == ADMIN.telegram_id

    await harness.press(ADMIN, "Accept: diagnosis")
    [done] = await harness.say(ADMIN, "Checked with the lab: negative.")
    assert done.text.startswith("Request #1 accepted")
    assert await drain(harness) == 1
    card = chat(harness, CITIZEN)[-1]
    assert card.photo is not None
    assert card.caption.startswith("Your correction request #1 (a declaration): accepted — Checked with the lab")
    assert "Green code" in card.caption
    [mydata, document] = await harness.say(CITIZEN, "/mydata")
    assert "Correction requests: #1 (a declaration): accepted" in mydata.text
    exported = json.loads(document.document)
    # The reviewer's read is in the person's access log, named by the scope (the root's: the issuer's city).
    assert "reviewer (Hangzhou" in mydata.text and str(ADMIN.telegram_id) not in mydata.text
    assert exported["access_log"] == [{"reviewer": "330100", "at": entry.at.isoformat(), "what": "correction_request"}]
    assert exported["correction_requests"][0]["state"] == "accepted"
    assert exported["correction_requests"][0]["evidence_file_id"].startswith("photo:")
    assert exported["declarations"][-1]["diagnosis"] == "none"
    [accepted] = await audit(harness, "correction.accept")
    assert "lab" not in json.dumps(accepted.detail)


async def test_a_rejection_keeps_the_code_and_a_decision_reuses_override(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.declare(CITIZEN, temperature="38.2")
    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "the colour")
    await harness.say(CITIZEN, "x" * 501)
    assert "at most 500" in chat(harness, CITIZEN)[-2].text
    await harness.say(CITIZEN, "My thermometer is broken.")
    await harness.press(CITIZEN, "No photo, send the request")
    [listed, again] = await harness.say(CITIZEN, "/correct")
    assert "#1 (the colour): submitted" in listed.text and "Request #1 is still open" in again.text
    await drain(harness)
    await harness.press(ADMIN, "Review request #1")
    await harness.press(ADMIN, "Reject")
    await harness.say(ADMIN, "Please measure again tomorrow.")
    await drain(harness)
    card = chat(harness, CITIZEN)[-1]
    assert "rejected — Please measure again tomorrow." in card.caption and "Yellow code" in card.caption

    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "a health-authority decision")
    await harness.say(CITIZEN, "Fever came from a vaccination.")
    await harness.press(CITIZEN, "No photo, send the request")
    await drain(harness)
    await harness.press(ADMIN, "Review request #2")
    await harness.press(ADMIN, "Accept: record a decision")
    [bad] = await harness.say(ADMIN, "purple 3")
    assert "Write a colour" in bad.text
    await harness.say(ADMIN, "green 2")
    await harness.say(ADMIN, "Vaccination reaction, confirmed.")
    [decision] = await audit(harness, "decision.record")  # the one decision use case
    assert decision.detail["colour"] == "green" and decision.detail["days"] == 2
    await drain(harness)
    received = "\n".join(m.text or m.caption or "" for m in chat(harness, CITIZEN)[-2:])
    assert "#2 (a health-authority decision): accepted" in received and "Green code" in received


async def test_deadline_reminds_then_escalates_on_a_moved_clock(harness: Harness, county_reviewers: None) -> None:
    jobs = TimedJobs(harness.services, harness.application.bot, rate=1000)
    await jobs.sync()
    await register(harness, CITIZEN, 1, region=COUNTY)
    await harness.declare(CITIZEN, diagnosis="suspected")
    await _file_declaration_dispute(harness)
    await drain(harness)
    assert chat(harness, COUNTY_REVIEWER)[-1].text.startswith("New correction request #1")
    assert not chat(harness, ADMIN) and not chat(harness, CITY_REVIEWER) and not chat(harness, OTHER_COUNTY_REVIEWER)

    harness.clock.advance(timedelta(hours=23))
    await jobs.run_due()
    assert len(chat(harness, COUNTY_REVIEWER)) == 1  # not yet due
    harness.clock.advance(timedelta(hours=2))
    await jobs.run_due()
    assert "open for 25 hours (deadline 24 hours)" in chat(harness, COUNTY_REVIEWER)[-1].text
    assert not chat(harness, ADMIN) and not chat(harness, CITY_REVIEWER)
    harness.clock.advance(timedelta(hours=1))
    await jobs.run_due()
    assert len(chat(harness, COUNTY_REVIEWER)) == 2  # reminded once only

    harness.clock.advance(timedelta(hours=23))  # 49 hours: twice the deadline
    await jobs.run_due()
    # The next scope up: the city's reviewer, and the root administrator, whose scope is the issuer's city too.
    for above in (CITY_REVIEWER, ADMIN):
        [escalated] = chat(harness, above)
        assert "twice the 24-hour deadline" in escalated.text and "comes to you" in escalated.text
    assert not chat(harness, OTHER_COUNTY_REVIEWER)
    harness.clock.advance(timedelta(hours=1))
    await jobs.run_due()
    assert len(chat(harness, CITY_REVIEWER)) == 1 and len(chat(harness, ADMIN)) == 1

    # The neighbouring county's reviewer may not open it: refused and audited.
    await press_data(harness, OTHER_COUNTY_REVIEWER, "crv:open:1")
    assert [e.detail["attempt"] for e in await audit(harness, "denied")] == ["crv:open"]
    # The county's reviewer decides it, and the request leaves every inbox.
    await harness.press(COUNTY_REVIEWER, "Review request #1")
    await harness.press(COUNTY_REVIEWER, "Accept: whole day")
    await harness.say(COUNTY_REVIEWER, "A mis-tap.")
    for reviewer in (ADMIN, CITY_REVIEWER, COUNTY_REVIEWER):
        [empty] = await harness.say(reviewer, "/corrections")
        assert empty.text == "No correction requests are open in your scope."
    # The person sees the county reviewer's read in /mydata, named by the county, never by their id.
    [summary, document] = await harness.say(CITIZEN, "/mydata")
    assert "reviewer (Xihu" in summary.text and "opened your correction request" in summary.text
    [read] = json.loads(document.document)["access_log"]
    assert read["reviewer"] == COUNTY and read["what"] == "correction_request"
    assert str(COUNTY_REVIEWER.telegram_id) not in summary.text + json.dumps(json.loads(document.document)["access_log"])


async def test_only_reviewers_review_and_the_person_can_erase_it(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.declare(CITIZEN, contact=True)
    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "a declaration")
    await harness.press(CITIZEN, 1)
    await harness.say(CITIZEN, "No contact at all.")
    await harness.press(CITIZEN, "No photo, send the request")
    [refused] = await harness.say(STRANGER, "/corrections")
    assert refused.text.startswith("Not permitted")
    await press_data(harness, STRANGER, "crv:open:1")
    assert sorted(e.detail["attempt"] for e in await audit(harness, "denied")) == ["/corrections", "crv:open"]
    [listing, *_] = await harness.say(ADMIN, "/corrections")
    assert listing.text.startswith("1 open correction request(s)")

    await harness.say(CITIZEN, "/forget")
    await harness.press(CITIZEN, 1)
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.corrections.open_requests() == []


async def test_lowering_a_same_day_risk_points_to_correct(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.declare(CITIZEN, diagnosis="confirmed")
    [refused] = await harness.declare(CITIZEN)
    assert "/correct" in refused.text and "/override" not in refused.text


async def test_decided_requests_are_kept_no_longer_than_declarations(harness: Harness) -> None:
    from bot.jobs.retention import apply_retention
    from rules.corrections import Disputed

    await register(harness, CITIZEN, 1)
    async with harness.services.database.unit_of_work() as uow:
        user = await uow.users.get_by_telegram_id(CITIZEN.telegram_id)
        decided = await uow.corrections.file(user.id, user.region_code, Disputed.COLOUR, None, "why", None,
                                             harness.clock.now())
        await uow.corrections.decide(decided.id, False, reviewer=ADMIN.telegram_id, outcome=None, answer="no",
                                     now=harness.clock.now())
        still_open = await uow.corrections.file(user.id, user.region_code, Disputed.DECISION, None, "why", "file-1",
                                                harness.clock.now())
    harness.clock.advance(timedelta(days=harness.services.settings.retention_days - 1))
    report = await apply_retention(harness.services, harness.services.today(), harness.clock.now())
    assert report["correction_requests"] == 0
    harness.clock.advance(timedelta(days=2))
    report = await apply_retention(harness.services, harness.services.today(), harness.clock.now())
    assert report["correction_requests"] == 1
    async with harness.services.database.unit_of_work() as uow:
        assert [r.id for r in await uow.corrections.for_user(user.id)] == [still_open.id]


def test_the_deadline_setting_is_validated(tmp_path) -> None:
    from bot.settings import SettingsError, load_settings

    assert load_settings(_env_file=None).correction_sla_hours == 24
    for bad in ("0", "721", "soon"):
        with pytest.raises(SettingsError, match="HEALTHCODE_CORRECTION_SLA_HOURS"):
            load_settings(_env_file=None, correction_sla_hours=bad)


async def test_someone_from_outside_the_issuers_region_is_answered_by_the_root(harness: Harness) -> None:
    """Registered here with a Beijing region, nobody's scope covers them: the root administrators review."""
    await register(harness, CITIZEN, 1, region="110105")
    await harness.declare(CITIZEN, diagnosis="suspected")
    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "the colour")
    await harness.say(CITIZEN, "Wrong answer.")
    await harness.press(CITIZEN, "No photo, send the request")
    await drain(harness)
    assert chat(harness, ADMIN)[-1].text.startswith("New correction request #1")
    [header, _] = await harness.say(ADMIN, "/corrections")
    assert header.text.startswith("1 open correction request(s)")


async def test_forged_and_stale_buttons_change_nothing(harness: Harness) -> None:
    await register(harness, CITIZEN, 1)
    await harness.declare(CITIZEN, diagnosis="confirmed")
    await harness.press(CITIZEN, "Dispute this code")
    await harness.press(CITIZEN, "a declaration")
    for forged in ("cor:day:2026-13-01", "cor:day:2025-01-01", "cor:what:nothing"):
        await press_data(harness, CITIZEN, forged)
        assert harness.api.calls_to("answerCallbackQuery")[-1].params.get("text") == "That button is no longer active."
    for forged in ("crv:fix:1.bogus", "crv:open:0", "crv:rej:99"):
        await press_data(harness, ADMIN, forged)
    [still] = await harness.say(ADMIN, "/corrections")
    assert still.text == "No correction requests are open in your scope."
    await harness.say(CITIZEN, "/cancel")
    [card] = await harness.say(CITIZEN, "/status")
    assert "Red code" in card.caption
