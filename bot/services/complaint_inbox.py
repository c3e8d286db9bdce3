"""The reviewers' complaint inbox: /inbox lists the open and in-progress cases in scope; a case opens with
its messages and the buttons Take (in progress), Reply, Close. Replies are relayed to the reporter by the
bot; an anonymous reporter is shown as "anonymous" and nothing else, ever.

/org_reports (health authority) counts the cases naming each organisation: the organisation's approving
authority sees how often it is reported, not what was said or by whom.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.regions import region_table
from bot.replies import Reply, Text, button, t
from bot.services import delivery, roles
from bot.services.access import authority
from bot.services.callbacks import CallbackData
from bot.services.complaints import MESSAGE_KIND, CaseMessage, OpenCase, case_state_text, open_case_button
from bot.services.context import Services, Turn, language_of
from bot.services.corrections import clean_text, reviews
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step
from rules.authority import Role, within_filter
from rules.corrections import COMPLAINT_TEXT_MAX, CaseState
from rules.validators import mask_name
from storage.records import Campaign, ComplaintCase, DeliveryRecord
from storage.unit_of_work import UnitOfWork

FLOW = "case_answer"
REVIEWER = authority(Role.REVIEWER)
READ_CASE = "complaint"  # the access-log entry (mydata.what.complaint)
HEALTH_AUTHORITY = authority(Role.HEALTH_AUTHORITY)
LISTED = 20
MESSAGES_SHOWN = 2  # with the case's own text: 3 × 1,000 characters at most


class CaseAnswerDraft(Draft):
    complaint_id: int


@dataclass(frozen=True)
class TakeCase(CallbackData, prefix="inb", action="take"):
    complaint_id: int


@dataclass(frozen=True)
class AnswerCase(CallbackData, prefix="inb", action="reply"):
    complaint_id: int


@dataclass(frozen=True)
class CloseCase(CallbackData, prefix="inb", action="close"):
    complaint_id: int


def _covers(turn: Turn, case: ComplaintCase) -> bool:
    return reviews(turn.services, turn.authority, case.region_code)


async def inbox(turn: Turn, args: list[str]) -> None:
    cases = [c for c in await turn.uow.complaints.inbox() if _covers(turn, c)]
    if not cases:
        turn.reply.say(t("inbox.empty"))
        return
    turn.reply.say(t("inbox.header", count=len(cases)))
    for case in cases[:LISTED]:
        turn.reply.say(case_state_text(case), buttons=open_case_button(case.id))


async def _case_in_scope(turn: Turn, complaint_id: int, attempt: str, *, button: bool = True) -> ComplaintCase | None:
    case = await turn.uow.complaints.case(complaint_id)
    if case is None:
        turn.reply.say(t("inbox.gone", id=complaint_id))
        return None
    if not _covers(turn, case):
        await roles.deny(turn, attempt, button=button)
        return None
    return case


async def _open(turn: Turn, pressed: OpenCase) -> None:
    case = await _case_in_scope(turn, pressed.complaint_id, "inb:open")
    if case is None:
        return
    await turn.uow.audit.record(turn.actor.telegram_id, "complaint.read", turn.now, target=f"complaint:{case.id}")
    await _log_read_of_reporter(turn, case)
    turn.reply.say(*await case_view(turn, case), buttons=_case_buttons(case))


async def _log_read_of_reporter(turn: Turn, case: ComplaintCase) -> None:
    """A case filed under the reporter's name is a read of their data (the masked name, their text); an
    anonymous one is not written anywhere that links it to them."""
    if case.anonymous or turn.authority is None:
        return
    reporter_id = await turn.uow.complaints.reporter_of(case.id)
    if reporter_id is not None:
        await turn.uow.access_log.record_review(reporter_id, turn.actor.telegram_id, turn.authority.scope,
                                                READ_CASE, turn.now)


async def case_view(turn: Turn, case: ComplaintCase) -> list[Text]:
    """What a reviewer sees: never who filed an anonymous case."""
    reporter: Text | str
    if case.anonymous:
        reporter = t("inbox.anonymous")
    else:
        reporter_id = await turn.uow.complaints.reporter_of(case.id)
        person = await turn.uow.users.get(reporter_id) if reporter_id is not None else None
        reporter = mask_name(person.name) if person is not None else t("inbox.erased")
    parts: list[Text] = [t("inbox.case", id=case.id, category=t(f"complaint.category.{case.category.value}"),
                           state=t(f"complaint.state.{case.state.value}"), filed=case.filed_at.astimezone(turn.services.tz),
                           organisation=case.organisation_name or "-", reporter=reporter, text=case.text)]
    messages = await turn.uow.complaints.messages(case.id)
    if len(messages) > MESSAGES_SHOWN:  # the case and its latest messages fit one Telegram message (4,096)
        parts.append(t("inbox.earlier_messages", count=len(messages) - MESSAGES_SHOWN))
    for message in messages[-MESSAGES_SHOWN:]:
        key = "inbox.message_from_reporter" if message.from_reporter else "inbox.message_from_reviewer"
        parts.append(t(key, at=message.sent_at.astimezone(turn.services.tz), text=message.text))
    return parts


def _case_buttons(case: ComplaintCase) -> tuple[tuple, ...]:
    if case.state is CaseState.CLOSED:
        return ()
    row = [button("inbox.btn_reply", AnswerCase(case.id)), button("inbox.btn_close", CloseCase(case.id))]
    if case.state is CaseState.OPEN:
        row.insert(0, button("inbox.btn_take", TakeCase(case.id)))
    return (tuple(row),)


async def _move(turn: Turn, complaint_id: int, wanted: CaseState, attempt: str) -> None:
    case = await _case_in_scope(turn, complaint_id, attempt)
    if case is None:
        return
    if not await turn.uow.complaints.move(case.id, wanted, by=turn.actor.telegram_id, now=turn.now):
        turn.reply.toast = t("inbox.cannot_move", state=t(f"complaint.state.{case.state.value}"))
        return
    await turn.uow.audit.record(turn.actor.telegram_id, f"complaint.{wanted.value}", turn.now,
                                target=f"complaint:{case.id}")
    await _tell_reporter(turn, case.id, wanted)
    turn.reply.say(t(f"inbox.moved.{wanted.value}", id=case.id))


async def _tell_reporter(turn: Turn, complaint_id: int, state: CaseState) -> None:
    reporter_id = await turn.uow.complaints.reporter_of(complaint_id)
    reporter = await turn.uow.users.get(reporter_id) if reporter_id is not None else None
    if reporter is None:
        return
    await delivery.start_campaign(turn.uow, kind=STATE_NOTICE_KIND, created_by=turn.actor.telegram_id, now=turn.now,
                                  payload=CaseStateNotice(complaint_id=complaint_id, state=state.value),
                                  audience=delivery.Audience.from_ids([reporter.telegram_id], "reporter"))


async def _take(turn: Turn, pressed: TakeCase) -> None:
    await _move(turn, pressed.complaint_id, CaseState.IN_PROGRESS, "inb:take")


async def _close(turn: Turn, pressed: CloseCase) -> None:
    await _move(turn, pressed.complaint_id, CaseState.CLOSED, "inb:close")


async def _answer(turn: Turn, pressed: AnswerCase) -> None:
    case = await _case_in_scope(turn, pressed.complaint_id, "inb:reply")
    if case is None:
        return
    if case.state is CaseState.CLOSED:
        turn.reply.say(t("complaint.closed_already", id=case.id))
        return
    await turn.save_state(FLOW, "text", CaseAnswerDraft(complaint_id=case.id))
    await _ask_answer(turn)


async def _ask_answer(turn: Turn) -> None:
    turn.reply.say(t("inbox.ask_reply", max=COMPLAINT_TEXT_MAX))


async def _answer_text(turn: Turn, text: str) -> None:
    body, problem = clean_text(text, COMPLAINT_TEXT_MAX)
    if problem is not None or body is None:
        turn.reply.say(problem or t("correction.text_empty"))
        return
    draft = turn.draft(CaseAnswerDraft)
    await turn.clear_state()
    case = await _case_in_scope(turn, draft.complaint_id, "inb:reply", button=False)
    if case is None:
        return
    if case.state is CaseState.OPEN:  # answering takes the case
        await turn.uow.complaints.move(case.id, CaseState.IN_PROGRESS, by=turn.actor.telegram_id, now=turn.now)
    message_id = await turn.uow.complaints.add_message(case.id, from_reporter=False, reviewer=turn.actor.telegram_id,
                                                       text=body, now=turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "complaint.answer", turn.now, target=f"complaint:{case.id}")
    reporter_id = await turn.uow.complaints.reporter_of(case.id)
    reporter = await turn.uow.users.get(reporter_id) if reporter_id is not None else None
    if reporter is not None:
        await delivery.start_campaign(turn.uow, kind=MESSAGE_KIND, created_by=turn.actor.telegram_id, now=turn.now,
                                      payload=CaseMessage(complaint_id=case.id, message_id=message_id, to_reporter=True),
                                      audience=delivery.Audience.from_ids([reporter.telegram_id], "reporter"))
    turn.reply.say(t("inbox.reply_sent", id=case.id))


class CaseStateNotice(delivery.CampaignPayload):
    """A case moved on (in progress, closed): its number and its new state."""

    complaint_id: int
    state: str


async def render_state(services: Services, campaign: Campaign, payload: CaseStateNotice, recipient: DeliveryRecord,
                       uow: UnitOfWork) -> Reply | None:
    """The reporter hears that their case is being handled, or closed."""
    reply = Reply(await language_of(services, uow, recipient.telegram_id))
    return reply.say(t(f"complaint.now.{payload.state}", id=payload.complaint_id))


STATE_NOTICE_KIND = delivery.campaign_kind("complaint_state", CaseStateNotice, render_state)


async def org_reports(turn: Turn, args: list[str]) -> None:
    """Complaints counted per organisation, for the organisations the sender approves (their scope)."""
    assert turn.authority is not None  # the requirement found the role and scope
    counts = await turn.uow.complaints.counts_by_organisation(within_filter(region_table(), turn.authority))
    if not counts:
        turn.reply.say(t("inbox.no_org_reports"))
        return
    turn.reply.say(t("inbox.org_reports", items=[t("inbox.org_report_line", id=c.organisation_id, name=c.name,
                                                   open=c.open, closed=c.closed) for c in counts[:50]]))


ANSWER: Flow[CaseAnswerDraft] = Flow(
    name=FLOW,
    draft=CaseAnswerDraft,
    requires=REVIEWER,
    steps=(Step("text", ask=_ask_answer, text=_answer_text),),
)

FEATURE = Feature(
    name="complaint_inbox",
    commands=(Command("inbox", inbox, requires=REVIEWER), Command("org_reports", org_reports, requires=HEALTH_AUTHORITY)),
    presses=(
        Press(OpenCase, _open, requires=REVIEWER),
        Press(TakeCase, _take, requires=REVIEWER),
        Press(AnswerCase, _answer, requires=REVIEWER),
        Press(CloseCase, _close, requires=REVIEWER),
    ),
    flows=(ANSWER,),
)
