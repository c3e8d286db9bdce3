"""/report: a complaint or report (投诉、检举), and the reporter's side of the conversation on it.

    step          asks                                      takes
    category      what it is about                          cmp:cat:<category>
    organisation  the organisation concerned, if any        cmp:org:<id> (one they belong to), its number, or cmp:noorg
    text          what happened (at most 1000 characters)   text
    anonymity     anonymous or named                        cmp:anon:<0|1>

The person gets a case number; the reviewers whose scope covers their region are told (nothing about
who filed it). If anonymous, no reviewer ever sees who filed it: not their name, not a masked one, not
their Telegram id, and the filing is audited without naming them. Replies are relayed both ways by the
bot (``bot.services.complaint_inbox`` is the reviewers' side). Everything the reporter wrote is sealed.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.replies import Button, Reply, Text, button, t
from bot.services import delivery
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn, language_of
from bot.services.corrections import clean_text, reviewers_for
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step
from rules.corrections import COMPLAINT_TEXT_MAX, CaseState, ComplaintCategory, first_level
from rules.validators import parse_number
from storage.records import Campaign, ComplaintCase, DeliveryRecord
from storage.unit_of_work import UnitOfWork

FLOW = "report"
REPLY_FLOW = "case_reply"
ANONYMOUS_ACTOR = 0  # the audit's actor for an anonymous filing: nobody named
LISTED = 5


class ReportDraft(Draft):
    category: ComplaintCategory | None = None
    organisation_id: int | None = None
    text: str | None = None


class CaseReplyDraft(Draft):
    complaint_id: int


@dataclass(frozen=True)
class ChooseCategory(CallbackData, prefix="cmp", action="cat"):
    category: ComplaintCategory


@dataclass(frozen=True)
class ChooseOrganisation(CallbackData, prefix="cmp", action="org"):
    organisation_id: int


@dataclass(frozen=True)
class NoOrganisation(CallbackData, prefix="cmp", action="noorg"):
    pass


@dataclass(frozen=True)
class ChooseAnonymity(CallbackData, prefix="cmp", action="anon"):
    anonymous: bool


@dataclass(frozen=True)
class CancelReport(CallbackData, prefix="cmp", action="cancel"):
    pass


@dataclass(frozen=True)
class ReplyToCase(CallbackData, prefix="cmp", action="reply"):
    """The reporter answers the reviewer, under each relayed message."""

    complaint_id: int


@dataclass(frozen=True)
class OpenCase(CallbackData, prefix="inb", action="open"):
    """A reviewer opens a case (bot.services.complaint_inbox)."""

    complaint_id: int


def open_case_button(complaint_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((button("complaint.btn_open", OpenCase(complaint_id), id=complaint_id),),)


def _cancel_row() -> tuple[Button, ...]:
    return (button("complaint.btn_cancel", CancelReport()),)


def case_state_text(case: ComplaintCase) -> Text:
    return t("complaint.case_line", id=case.id, category=t(f"complaint.category.{case.category.value}"),
             state=t(f"complaint.state.{case.state.value}"))


# --- filing ------------------------------------------------------------------------------------------


async def report(turn: Turn, args: list[str]) -> None:
    assert turn.user is not None
    cases = await turn.uow.complaints.filed_by(turn.user.id)
    if cases:
        turn.reply.say(t("complaint.yours", items=[case_state_text(c) for c in cases[:LISTED]]))
    await turn.save_state(FLOW, "category", ReportDraft())
    await _ask_category(turn)


async def _ask_category(turn: Turn) -> None:
    rows = tuple((button(f"complaint.category.{c.value}", ChooseCategory(c)),) for c in ComplaintCategory)
    turn.reply.say(t("complaint.ask_category"), buttons=(*rows, _cancel_row()))


async def _category(turn: Turn, pressed: ChooseCategory) -> None:
    draft = turn.draft(ReportDraft)
    draft.category = pressed.category
    await turn.save_state(FLOW, "organisation", draft)
    await _ask_organisation(turn)


async def _ask_organisation(turn: Turn) -> None:
    assert turn.user is not None
    joined = await turn.uow.memberships.organisations_of(turn.user.id)
    rows = tuple((button("complaint.btn_organisation", ChooseOrganisation(o.id), name=o.name, id=o.id),)
                 for o in joined[:8])
    turn.reply.say(t("complaint.ask_organisation"),
                   buttons=(*rows, (button("complaint.btn_no_organisation", NoOrganisation()),), _cancel_row()))


async def _organisation_chosen(turn: Turn, pressed: ChooseOrganisation) -> None:
    await _take_organisation(turn, pressed.organisation_id)


async def _organisation_typed(turn: Turn, text: str) -> None:
    number = parse_number(text.strip().lstrip("#"), minimum=1)
    if number is None:
        turn.reply.say(t("complaint.organisation_not_number"))
        return
    await _take_organisation(turn, number)


async def _take_organisation(turn: Turn, organisation_id: int) -> None:
    organisation = await turn.uow.organisations.get(organisation_id)
    if organisation is None or organisation.status != "approved":
        turn.reply.say(t("complaint.organisation_unknown"))
        return
    draft = turn.draft(ReportDraft)
    draft.organisation_id = organisation.id
    await turn.save_state(FLOW, "text", draft)
    turn.reply.say(t("complaint.organisation_chosen", name=organisation.name))
    await _ask_text(turn)


async def _no_organisation(turn: Turn, pressed: NoOrganisation) -> None:
    await turn.save_state(FLOW, "text")
    await _ask_text(turn)


async def _ask_text(turn: Turn) -> None:
    turn.reply.say(t("complaint.ask_text", max=COMPLAINT_TEXT_MAX), buttons=(_cancel_row(),))


async def _text(turn: Turn, text: str) -> None:
    body, problem = clean_text(text, COMPLAINT_TEXT_MAX)
    if problem is not None:
        turn.reply.say(problem)
        return
    draft = turn.draft(ReportDraft)
    draft.text = body
    await turn.save_state(FLOW, "anonymity", draft)
    await _ask_anonymity(turn)


async def _ask_anonymity(turn: Turn) -> None:
    turn.reply.say(t("complaint.ask_anonymity"),
                   buttons=((button("complaint.btn_anonymous", ChooseAnonymity(True)),),
                            (button("complaint.btn_named", ChooseAnonymity(False)),), _cancel_row()))


async def _anonymity(turn: Turn, pressed: ChooseAnonymity) -> None:
    assert turn.user is not None
    draft = turn.draft(ReportDraft)
    await turn.clear_state()
    if draft.category is None or draft.text is None:
        await report(turn, [])
        return
    case_id = await turn.uow.complaints.file(turn.user.id, draft.category, draft.organisation_id,
                                             turn.user.region_code, draft.text, pressed.anonymous, turn.now)
    # An anonymous filing names nobody, in the audit log too; the case row alone links it to the reporter.
    actor = ANONYMOUS_ACTOR if pressed.anonymous else turn.actor.telegram_id
    await turn.uow.audit.record(actor, "complaint.file", turn.now, target=f"complaint:{case_id}",
                                detail={"category": draft.category.value, "anonymous": pressed.anonymous,
                                        "organisation": draft.organisation_id})
    reviewers = first_level(await reviewers_for(turn.services, turn.uow, turn.user.region_code))
    if reviewers:
        await delivery.start_campaign(turn.uow, kind=FILED_KIND, created_by=actor, now=turn.now,
                                      payload=CaseNotice(complaint_id=case_id),
                                      audience=delivery.Audience.from_ids(sorted({r.telegram_id for r in reviewers}),
                                                                          "reviewers"))
    turn.reply.say(t("complaint.filed_anonymously" if pressed.anonymous else "complaint.filed", id=case_id),
                   edit=True)


async def _cancel(turn: Turn, pressed: CancelReport) -> None:
    await turn.clear_state()
    turn.reply.say(t("complaint.cancelled"), edit=True)


# --- the reporter's replies --------------------------------------------------------------------------


async def _reply_to_case(turn: Turn, pressed: ReplyToCase) -> None:
    assert turn.user is not None
    if await turn.uow.complaints.reporter_of(pressed.complaint_id) != turn.user.id:
        turn.reply.toast = t("common.stale_button")
        return
    case = await turn.uow.complaints.case(pressed.complaint_id)
    if case is None or case.state is CaseState.CLOSED:
        turn.reply.say(t("complaint.closed_already", id=pressed.complaint_id))
        return
    await turn.save_state(REPLY_FLOW, "text", CaseReplyDraft(complaint_id=case.id))
    await _ask_reply(turn)


async def _ask_reply(turn: Turn) -> None:
    turn.reply.say(t("complaint.ask_reply", max=COMPLAINT_TEXT_MAX))


async def _reply_text(turn: Turn, text: str) -> None:
    body, problem = clean_text(text, COMPLAINT_TEXT_MAX)
    if problem is not None or body is None:
        turn.reply.say(problem or t("correction.text_empty"))
        return
    draft = turn.draft(CaseReplyDraft)
    await turn.clear_state()
    case = await turn.uow.complaints.case(draft.complaint_id)
    if case is None or case.state is CaseState.CLOSED:
        turn.reply.say(t("complaint.closed_already", id=draft.complaint_id))
        return
    message_id = await turn.uow.complaints.add_message(case.id, from_reporter=True, reviewer=None, text=body,
                                                       now=turn.now)
    actor = ANONYMOUS_ACTOR if case.anonymous else turn.actor.telegram_id
    await turn.uow.audit.record(actor, "complaint.reply", turn.now, target=f"complaint:{case.id}")
    await relay_to_reviewers(turn, case, actor, message_id)
    turn.reply.say(t("complaint.reply_sent", id=case.id))


async def relay_to_reviewers(turn: Turn, case: ComplaintCase, actor: int, message_id: int) -> None:
    """The reporter's message goes to the reviewer handling the case, or to every reviewer in scope."""
    if case.handler:
        recipients = [case.handler]
    else:
        recipients = [r.telegram_id for r in first_level(await reviewers_for(turn.services, turn.uow, case.region_code))]
    if recipients:
        await delivery.start_campaign(turn.uow, kind=MESSAGE_KIND, created_by=actor, now=turn.now,
                                      payload=CaseMessage(complaint_id=case.id, message_id=message_id, to_reporter=False),
                                      audience=delivery.Audience.from_ids(sorted(set(recipients)), "reviewers"))


class CaseNotice(delivery.CampaignPayload):
    """A complaint's number (nothing about who filed it)."""

    complaint_id: int


class CaseMessage(delivery.CampaignPayload):
    """One message on a case and which way it goes; its text is read at send time."""

    complaint_id: int
    message_id: int
    to_reporter: bool


async def render_message(services: Services, campaign: Campaign, payload: CaseMessage, recipient: DeliveryRecord,
                         uow: UnitOfWork) -> Reply | None:
    """One message on the case, either way; to the reporter with a Reply button, to a reviewer with the
    case's Open button (and never the reporter's name). The text is read at send time, never put in the payload."""
    complaint_id, to_reporter = payload.complaint_id, payload.to_reporter
    messages = [m for m in await uow.complaints.messages(complaint_id) if m.id == payload.message_id]
    case = await uow.complaints.case(complaint_id)
    if not messages or case is None:
        return None
    reply = Reply(await language_of(services, uow, recipient.telegram_id))
    if to_reporter:
        buttons = () if case.state is CaseState.CLOSED else \
            ((button("complaint.btn_reply", ReplyToCase(complaint_id)),),)
        return reply.say(t("complaint.from_reviewer", id=complaint_id, text=messages[-1].text), buttons=buttons)
    return reply.say(t("complaint.from_reporter", id=complaint_id, text=messages[-1].text),
                     buttons=open_case_button(complaint_id))


async def render_filed(services: Services, campaign: Campaign, payload: CaseNotice, recipient: DeliveryRecord,
                       uow: UnitOfWork) -> Reply | None:
    case = await uow.complaints.case(payload.complaint_id)
    if case is None or case.state is not CaseState.OPEN:
        return None
    reply = Reply(await language_of(services, uow, recipient.telegram_id))
    return reply.say(t("complaint.new_case", id=case.id, category=t(f"complaint.category.{case.category.value}")),
                     buttons=open_case_button(case.id))


MESSAGE_KIND = delivery.campaign_kind("complaint_message", CaseMessage, render_message)
FILED_KIND = delivery.campaign_kind("complaint_filed", CaseNotice, render_filed)

REPORT: Flow[ReportDraft] = Flow(
    name=FLOW,
    draft=ReportDraft,
    requires=REGISTERED,
    steps=(
        Step("category", ask=_ask_category, presses=(Press(ChooseCategory, _category),)),
        Step("organisation", ask=_ask_organisation, text=_organisation_typed,
             presses=(Press(ChooseOrganisation, _organisation_chosen), Press(NoOrganisation, _no_organisation))),
        Step("text", ask=_ask_text, text=_text),
        Step("anonymity", ask=_ask_anonymity, presses=(Press(ChooseAnonymity, _anonymity),)),
    ),
    anytime=(Press(CancelReport, _cancel),),
)

CASE_REPLY: Flow[CaseReplyDraft] = Flow(
    name=REPLY_FLOW,
    draft=CaseReplyDraft,
    requires=REGISTERED,
    steps=(Step("text", ask=_ask_reply, text=_reply_text),),
)


async def _help(turn: Turn) -> Text | None:
    return t("help.complaints") if turn.user is not None else None


FEATURE = Feature(
    name="complaints",
    commands=(Command("report", report, requires=REGISTERED),),
    presses=(Press(ReplyToCase, _reply_to_case, requires=REGISTERED),),
    flows=(REPORT, CASE_REPLY),
    help=_help,
)
