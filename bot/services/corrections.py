"""/correct (or "Dispute this code" under the card): a person disputes their code (纠错).

    step      asks                                   takes
    disputed  what is wrong                          cor:what:<colour|declaration|travel|decision>
    day       which day (a declaration, travel)      cor:day:<YYYY-MM-DD>, one of the last declared days
    reason    why (at most 500 characters)           text
    evidence  a photo as evidence, or none           a photo / picture file, or cor:noev

The request is filed at the last step and goes to the reviewers whose scope covers the person's region
(``roles.holders_covering``, the nearest level); ``bot.services.correction_review`` is their side and
``bot.jobs.correction_deadlines`` reminds and escalates. Of a photo only Telegram's file id is kept
(sealed): the reviewer is sent the same file again by its id. One open request at a time.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.replies import Attachment, Button, Reply, Text, button, t
from bot.services import delivery, roles
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData
from bot.services.common_buttons import StartCorrection
from bot.services.context import Services, Turn, language_of
from bot.services.correction_states import state_text
from bot.services.feature import Command, Content, Draft, Feature, Flow, Picture, Press, Step
from bot.regions import region_table
from rules.authority import Authority, Role
from rules.corrections import REASON_MAX, Disputed, RequestState, first_level
from storage.records import Campaign, CorrectionRequest, DeliveryRecord
from storage.unit_of_work import UnitOfWork

FLOW = "correction"
DAYS_OFFERED = 7  # the last declared days offered to dispute
LISTED_REQUESTS = 5


class CorrectionDraft(Draft):
    disputed: Disputed | None = None
    day: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ChooseDisputed(CallbackData, prefix="cor", action="what"):
    disputed: Disputed


@dataclass(frozen=True)
class ChooseDisputedDay(CallbackData, prefix="cor", action="day"):
    day: date


@dataclass(frozen=True)
class NoEvidence(CallbackData, prefix="cor", action="noev"):
    pass


@dataclass(frozen=True)
class CancelCorrection(CallbackData, prefix="cor", action="cancel"):
    pass


@dataclass(frozen=True)
class ReviewCorrection(CallbackData, prefix="crv", action="open"):
    """A reviewer opens a request (bot.services.correction_review); on the notices sent to reviewers."""

    request_id: int


async def reviewers_for(services: Services, uow: UnitOfWork, region_code: str) -> list[Authority]:
    """The reviewers whose scope covers the region, nearest first (``roles.holders_covering``). Someone
    registered here from outside the issuer's region lies in nobody's scope: the root administrators answer."""
    holders = await roles.holders_covering(services, uow, Role.REVIEWER, region_code)
    if holders or _inside_issuer(services, region_code):
        return holders
    roots = (services.root_authority(telegram_id) for telegram_id in sorted(services.settings.admin_ids))
    return [root for root in roots if root is not None and root.holds(Role.REVIEWER)]


def reviews(services: Services, authority: Authority | None, region_code: str) -> bool:
    """Whether this reviewer's scope takes a request or case from ``region_code`` (see ``reviewers_for``)."""
    if authority is None:
        return False
    return authority.covers(region_table(), region_code) or (authority.root and not _inside_issuer(services, region_code))


def _inside_issuer(services: Services, region_code: str) -> bool:
    return region_table().lies_within(region_code, services.issuer_region)


def review_button(request_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((button("correction.btn_review", ReviewCorrection(request_id), id=request_id),),)


def _cancel_row() -> tuple[Button, ...]:
    return (button("correction.btn_cancel", CancelCorrection()),)


# --- entry ----------------------------------------------------------------------------------------


async def correct(turn: Turn, args: list[str]) -> None:
    await begin(turn)


async def _from_card(turn: Turn, pressed: StartCorrection) -> None:
    await begin(turn)


async def begin(turn: Turn) -> None:
    assert turn.user is not None  # REGISTERED
    requests = await turn.uow.corrections.for_user(turn.user.id)
    if requests:
        turn.reply.say(t("correction.yours", items=[state_text(r) for r in requests[:LISTED_REQUESTS]]))
    still_open = next((r for r in requests if r.state.open), None)
    if still_open is not None:
        turn.reply.say(t("correction.one_open", id=still_open.id))
        return
    await turn.save_state(FLOW, "disputed", CorrectionDraft())
    await _ask_disputed(turn)


async def _ask_disputed(turn: Turn) -> None:
    rows = tuple((button(f"correction.disputed.{d.value}", ChooseDisputed(d)),) for d in Disputed)
    turn.reply.say(t("correction.ask_disputed"), buttons=(*rows, _cancel_row()))


async def _disputed(turn: Turn, pressed: ChooseDisputed) -> None:
    draft = turn.draft(CorrectionDraft)
    draft.disputed = pressed.disputed
    if pressed.disputed.names_a_day:
        await turn.save_state(FLOW, "day", draft)
        await _ask_day(turn)
    else:
        await turn.save_state(FLOW, "reason", draft)
        await _ask_reason(turn)


async def _declared_days(turn: Turn) -> list[date]:
    assert turn.user is not None
    declared = await turn.uow.declarations.list_between(turn.user.id, turn.today - timedelta(days=60), turn.today)
    return [d.day for d in reversed(declared)][:DAYS_OFFERED]


async def _ask_day(turn: Turn) -> None:
    days = await _declared_days(turn)
    if not days:
        await turn.clear_state()
        turn.reply.say(t("correction.no_days"))
        return
    rows = tuple((button("correction.btn_day", ChooseDisputedDay(day), day=day),) for day in days)
    turn.reply.say(t("correction.ask_day"), buttons=(*rows, _cancel_row()))


async def _day(turn: Turn, pressed: ChooseDisputedDay) -> None:
    if pressed.day not in await _declared_days(turn):  # a forged or stale day
        turn.reply.toast = t("common.stale_button")
        return
    draft = turn.draft(CorrectionDraft)
    draft.day = pressed.day
    await turn.save_state(FLOW, "reason", draft)
    await _ask_reason(turn)


async def _ask_reason(turn: Turn) -> None:
    turn.reply.say(t("correction.ask_reason", max=REASON_MAX), buttons=(_cancel_row(),))


def clean_text(text: str, maximum: int) -> tuple[str | None, Text | None]:
    """The text trimmed, or the answer saying why it cannot be taken (empty, too long, control characters)."""
    text = text.strip()
    if not text:
        return None, t("correction.text_empty")
    if len(text) > maximum:
        return None, t("correction.text_too_long", length=len(text), max=maximum)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        return None, t("correction.text_control")
    return text, None


async def _reason(turn: Turn, text: str) -> None:
    reason, problem = clean_text(text, REASON_MAX)
    if problem is not None:
        turn.reply.say(problem)
        await _ask_reason(turn)
        return
    draft = turn.draft(CorrectionDraft)
    draft.reason = reason
    await turn.save_state(FLOW, "evidence", draft)
    await _ask_evidence(turn)


async def _ask_evidence(turn: Turn) -> None:
    turn.reply.say(t("correction.ask_evidence"),
                   buttons=((button("correction.btn_no_evidence", NoEvidence()),), _cancel_row()))


async def _evidence(turn: Turn, kind: str, picture: Picture) -> bool:
    """A photo, or a picture sent as a file: it must open as an image (a PDF or a damaged file is refused)."""
    if picture.file_id is None or picture.content is None or picture.problem is not None:
        turn.reply.say(t("correction.evidence_unusable"))
        return True
    await _file(turn, f"{kind}:{picture.file_id}")  # how to send it on: as a photo, or as the file it came as
    return True


def evidence_attachment(evidence: str) -> Attachment:
    """The evidence to send a reviewer again, by Telegram's file id (``kind:file_id`` as stored)."""
    kind, _, file_id = evidence.partition(":")
    return Attachment("evidence.jpg" if kind == "photo" else "evidence", b"", as_photo=kind == "photo",
                      telegram_file_id=file_id)


async def _no_evidence(turn: Turn, pressed: NoEvidence) -> None:
    await _file(turn, None)


async def _cancel(turn: Turn, pressed: CancelCorrection) -> None:
    await turn.clear_state()
    turn.reply.say(t("correction.cancelled"), edit=True)


# --- filing -----------------------------------------------------------------------------------------


async def _file(turn: Turn, evidence_file_id: str | None) -> None:
    assert turn.user is not None
    draft = turn.draft(CorrectionDraft)
    await turn.clear_state()
    if draft.disputed is None or draft.reason is None:  # a draft from an older version: start again
        await begin(turn)
        return
    request = await turn.uow.corrections.file(turn.user.id, turn.user.region_code, draft.disputed, draft.day,
                                              draft.reason, evidence_file_id, turn.now)
    await turn.uow.audit.record(turn.actor.telegram_id, "correction.file", turn.now, target=f"user:{turn.user.id}",
                                detail={"request": request.id, "disputed": draft.disputed.value,
                                        "evidence": evidence_file_id is not None})
    reviewers = first_level(await reviewers_for(turn.services, turn.uow, turn.user.region_code))
    await notify_reviewers(turn.uow, [r.telegram_id for r in reviewers], kind=FILED_KIND,
                           payload=RequestNotice(request_id=request.id), by=turn.actor.telegram_id, now=turn.now)
    turn.reply.say(t("correction.filed", id=request.id, state=state_text(request)))


class RequestNotice(delivery.CampaignPayload):
    """A notice to reviewers about one request: new, or open for ``hours`` (``escalated`` past twice the
    deadline, ``above`` when it went to the next level up)."""

    request_id: int
    hours: int = 0
    escalated: bool = False
    above: bool = False


async def notify_reviewers(uow: UnitOfWork, telegram_ids: list[int], *, kind: delivery.CampaignKind[RequestNotice],
                           payload: RequestNotice, by: int, now: datetime) -> None:
    """A notice about a request to these reviewers, through bulk delivery (the one outgoing path)."""
    if not telegram_ids:
        return
    await delivery.start_campaign(uow, kind=kind, created_by=by, payload=payload,
                                  audience=delivery.Audience.from_ids(sorted(set(telegram_ids)), "reviewers"),
                                  now=now)


async def render_filed(services: Services, campaign: Campaign, payload: RequestNotice, recipient: DeliveryRecord,
                       uow: UnitOfWork) -> Reply | None:
    """A new request, to a reviewer: its number and what is disputed, never who filed it or why."""
    request = await uow.corrections.get(payload.request_id)
    if request is None or request.state is not RequestState.SUBMITTED:
        return None  # taken, decided or erased meanwhile
    reply = Reply(await language_of(services, uow, recipient.telegram_id))
    return reply.say(t("correction.new_request", id=request.id, disputed=t(f"correction.disputed.{request.disputed.value}"),
                       region=request.region_code), buttons=review_button(request.id))


FILED_KIND = delivery.campaign_kind("correction_filed", RequestNotice, render_filed)  # reviewers: a new request

_PICTURES = ("photo", "document")

CORRECTION: Flow[CorrectionDraft] = Flow(
    name=FLOW,
    draft=CorrectionDraft,
    requires=REGISTERED,
    steps=(
        Step("disputed", ask=_ask_disputed, presses=(Press(ChooseDisputed, _disputed),)),
        Step("day", ask=_ask_day, presses=(Press(ChooseDisputedDay, _day),)),
        Step("reason", ask=_ask_reason, text=_reason),
        Step("evidence", ask=_ask_evidence, presses=(Press(NoEvidence, _no_evidence),),
             content=tuple(Content(kind, _evidence, requires=REGISTERED) for kind in _PICTURES)),
    ),
    anytime=(Press(CancelCorrection, _cancel),),
)


async def _help(turn: Turn) -> Text | None:
    return t("help.corrections") if turn.user is not None else None


FEATURE = Feature(
    name="corrections",
    commands=(Command("correct", correct, requires=REGISTERED),),
    presses=(Press(StartCorrection, _from_card, requires=REGISTERED),),
    flows=(CORRECTION,),
    help=_help,
)
