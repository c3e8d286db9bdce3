"""Complaints and reports end to end: an anonymous case nobody reviewing can trace, replies relayed both ways,
open → in progress → closed, reports counted on the organisation, refusals audited."""
from __future__ import annotations

import json

from sqlalchemy import select

from bot.local.chat import LocalUser
from rules.authority import Role
from storage.models import AccessLogRow, CampaignRow
from tests.handlers.conftest import Harness
from tests.handlers.test_corrections import COUNTY, COUNTY_REVIEWER, OTHER_COUNTY_REVIEWER, county_reviewers  # noqa: F401
from tests.handlers.test_org_fixtures import (
    ADMIN, audit, chat, drain, phone, press_data, register, request_organisation, resident_id,
)

REPORTER = LocalUser(65001, "Xiaoming", "en")
MANAGER = LocalUser(65002, "Manager", "en")
STRANGER = LocalUser(65003, "Stranger", "en")
HERE = LocalUser(65004, "Xihu health authority", "en")
NEIGHBOUR = LocalUser(65005, "Binjiang health authority", "en")
NAME = "王小明"


def _everything_seen_by(harness: Harness, user: LocalUser) -> str:
    messages = chat(harness, user)
    return "\n".join(
        f"{m.text or ''}\n{m.caption or ''}\n" + "\n".join(f"{label} {data}" for row in m.buttons for label, data in row)
        for m in messages
    )


async def test_an_anonymous_complaint_cannot_be_traced_by_the_reviewer(harness: Harness) -> None:
    await register(harness, REPORTER, 7, name=NAME)
    [listed] = await harness.say(REPORTER, "/report")
    assert listed.text == "What is your complaint or report about?"
    await harness.press(REPORTER, "A checkpoint refused a valid code")
    await harness.press(REPORTER, "No organisation")
    await harness.say(REPORTER, "The guard at the north gate refused my green code on Monday.")
    [filed] = await harness.press(REPORTER, "Stay anonymous")
    assert filed.text.startswith("Case #1 filed anonymously")

    assert await drain(harness) == 1
    assert chat(harness, ADMIN)[-1].text == "New case #1: A checkpoint refused a valid code."
    [inbox_header, line] = await harness.say(ADMIN, "/inbox")
    assert "1 open case(s)" in inbox_header.text and line.text == "#1 A checkpoint refused a valid code: open"
    [case] = await harness.press(ADMIN, "Open case #1")
    assert "reporter: anonymous" in case.text and "north gate" in case.text
    await harness.press(ADMIN, "Reply")
    await harness.say(ADMIN, "Which day and which checkpoint exactly?")
    assert await drain(harness) == 1
    relayed = chat(harness, REPORTER)[-1]
    assert relayed.text == "A reviewer answers on case #1:\nWhich day and which checkpoint exactly?"
    await harness.press(REPORTER, "Reply")
    [sent] = await harness.say(REPORTER, "Monday 9:00, north gate of the station.")
    assert sent.text == "Your reply on case #1 has been passed on."
    assert await drain(harness) == 1
    assert chat(harness, ADMIN)[-1].text.startswith("The reporter answers on case #1:\nMonday 9:00")
    await harness.press(ADMIN, "Open case #1")
    [closed] = await harness.press(ADMIN, "Close")
    assert closed.text == "Case #1 closed; the reporter has been told."
    await drain(harness)
    assert chat(harness, REPORTER)[-1].text == "Case #1 has been closed. Thank you."

    # Nothing the reviewer was shown names the reporter in any form.
    seen = _everything_seen_by(harness, ADMIN)
    for trace in (NAME, NAME[0] + "*", "王", str(REPORTER.telegram_id), REPORTER.first_name, phone(7), phone(7)[-4:],
                  resident_id(7), resident_id(7)[-4:]):
        assert trace not in seen, trace
    # Nor does the audit log, nor the campaigns that relayed the messages.
    for entry in await audit(harness):
        if entry.action.startswith("complaint."):
            assert entry.actor_telegram_id != REPORTER.telegram_id, entry
            assert str(REPORTER.telegram_id) not in json.dumps(entry.detail)
    async with harness.services.database.unit_of_work() as uow:
        creators = (await uow._session.execute(select(CampaignRow.created_by, CampaignRow.payload))).all()
    assert all(row.created_by != REPORTER.telegram_id for row in creators)
    # Nor the access log: the reviewer's reads of an anonymous case are written to nobody's.
    async with harness.services.database.unit_of_work() as uow:
        assert (await uow._session.execute(select(AccessLogRow))).all() == []
    # Nor the reviewer's own data export, which lists the cases they handled.
    exported_for_reviewer = (await harness.say(ADMIN, "/mydata"))[-1]
    reviewer_document = json.loads(exported_for_reviewer.document)
    assert reviewer_document["complaints"] and reviewer_document["complaint_messages"]  # the rows they acted in
    assert "reporter_id" not in json.dumps(reviewer_document)
    # The reporter sees their own case and the messages in /mydata.
    [summary, document] = await harness.say(REPORTER, "/mydata")
    assert "Complaints and reports: #1 A checkpoint refused a valid code: closed" in summary.text
    [exported] = json.loads(document.document)["complaints"]
    assert exported["anonymous"] is True and len(exported["messages"]) == 2
    assert json.loads(document.document)["access_log"] == [] and "No organisation, checkpoint or reviewer" in summary.text


async def test_a_named_report_about_an_organisation_is_counted_on_it(harness: Harness) -> None:
    organisation_id = await request_organisation(harness, MANAGER, 1, name="Acme Ltd")
    await harness.say(ADMIN, "/orgs_pending")
    await harness.press(ADMIN, "Approve")
    await register(harness, REPORTER, 8, name=NAME)
    await harness.say(REPORTER, "/report")
    await harness.press(REPORTER, "An organisation demands more than the code")
    [not_a_number] = await harness.say(REPORTER, "Acme")
    assert "organisation's number" in not_a_number.text
    [unknown] = await harness.say(REPORTER, "999")
    assert unknown.text == "There is no approved organisation with that number."
    await harness.say(REPORTER, str(organisation_id))
    await harness.say(REPORTER, "They ask for a nucleic-acid test every day on top of the green code.")
    [filed] = await harness.press(REPORTER, "Show my name to the reviewers")
    assert filed.text.startswith("Case #1 filed.")
    await drain(harness)
    [case] = await harness.press(ADMIN, "Open case #1")
    assert "organisation: Acme Ltd · reporter: 王**" in case.text
    # A case filed under one's name is a read of one's data: in the reporter's access log, by the scope.
    [summary, document] = await harness.say(REPORTER, "/mydata")
    assert "reviewer (Hangzhou" in summary.text and "opened the complaint you filed under your name" in summary.text
    assert str(ADMIN.telegram_id) not in summary.text
    [read] = json.loads(document.document)["access_log"]
    assert read["reviewer"] == "330100" and read["what"] == "complaint"
    await harness.press(ADMIN, "Take it")
    [report] = await harness.say(ADMIN, "/org_reports")
    assert report.text == f"Complaints and reports by organisation: Acme Ltd (#{organisation_id}): 1 open, 0 closed"
    # Counted for the organisation's approving authority: a health authority over its county sees the count,
    # one over the neighbouring county does not.
    async with harness.services.database.unit_of_work() as uow:
        await uow.administrators.appoint(HERE.telegram_id, Role.HEALTH_AUTHORITY, "330106", by=ADMIN.telegram_id,
                                         now=harness.clock.now())
        await uow.administrators.appoint(NEIGHBOUR.telegram_id, Role.HEALTH_AUTHORITY, "330108",
                                         by=ADMIN.telegram_id, now=harness.clock.now())
    [here] = await harness.say(HERE, "/org_reports")
    assert here.text == report.text
    [neighbour] = await harness.say(NEIGHBOUR, "/org_reports")
    assert neighbour.text != report.text and "Acme" not in neighbour.text
    [entry] = await audit(harness, "complaint.file")
    assert entry.actor_telegram_id == REPORTER.telegram_id and entry.detail["organisation"] == organisation_id

    # Neither the inbox nor a case opens for someone who is not a reviewer; both refusals are audited.
    [refused] = await harness.say(STRANGER, "/inbox")
    assert refused.text.startswith("Not permitted")
    await press_data(harness, STRANGER, "inb:open:1")
    await press_data(harness, STRANGER, "inb:close:1")
    assert sorted(e.detail["attempt"] for e in await audit(harness, "denied")) == ["/inbox", "inb:close", "inb:open"]
    # The reporter cannot answer someone else's case by forging the button.
    await register(harness, STRANGER, 9)
    await press_data(harness, STRANGER, "cmp:reply:1")
    assert chat(harness, STRANGER)[-1].text != "Your reply (at most 1000 characters):"


async def test_a_case_stays_in_its_scope_and_a_long_thread_fits_one_message(harness: Harness,
                                                                              county_reviewers: None) -> None:
    await register(harness, REPORTER, 10, region=COUNTY)
    await harness.say(REPORTER, "/report")
    await harness.press(REPORTER, "Discrimination")
    await harness.press(REPORTER, "No organisation")
    await harness.say(REPORTER, "字" * 1000)
    await harness.press(REPORTER, "Stay anonymous")
    await drain(harness)
    assert chat(harness, COUNTY_REVIEWER)[-1].text == "New case #1: Discrimination."  # the nearest level
    assert not chat(harness, OTHER_COUNTY_REVIEWER)
    [nothing] = await harness.say(OTHER_COUNTY_REVIEWER, "/inbox")
    assert nothing.text == "No open cases in your scope."
    await press_data(harness, OTHER_COUNTY_REVIEWER, "inb:open:1")
    await press_data(harness, OTHER_COUNTY_REVIEWER, "inb:close:1")
    assert sorted(e.detail["attempt"] for e in await audit(harness, "denied")) == ["inb:close", "inb:open"]
    for n in range(3):  # a long conversation, both ways, every message at the limit
        await harness.press(COUNTY_REVIEWER, "Open case #1")
        await harness.press(COUNTY_REVIEWER, "Reply")
        await harness.say(COUNTY_REVIEWER, "问" * 1000)
        await drain(harness)
        await harness.press(REPORTER, "Reply")
        await harness.say(REPORTER, "答" * 1000)
        await drain(harness)
    [case] = await harness.press(COUNTY_REVIEWER, "Open case #1")
    assert "(4 earlier message(s) not shown)" in case.text and "reporter: anonymous" in case.text
