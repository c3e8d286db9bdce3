"""The reviewers' side of correction requests: /corrections lists the open requests in scope; a reviewer
opens one, sees the masked person, the reason chain behind the colour and the evidence, and decides.

    press                         then
    crv:open:<id>                 the request, in review from now on; the buttons below
    crv:fix:<id>.<answer>         accept: that day's <answer> was wrong (reason next)
    crv:dec:<id>                  accept: record a decision ("COLOUR DAYS", then the reason)
    crv:rej:<id>                  reject (reason next)

Every decision is audited, re-evaluates the person's code (``status_card.refresh_code``) and tells them
through bulk delivery, with the new card. A decision reuses ``administration.decisions.record_decision``.
Only requests from people inside the reviewer's scope can be seen or decided; any other is refused and
audited like every refusal.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from bot import regions
from bot.replies import Reply, Text, button, t
from bot.services import delivery, roles, status_card
from bot.services.access import authority
from bot.services.administration.decisions import DECISION_DAYS_MAX, DECISION_REASON_MAX, record_decision
from bot.services.callbacks import CallbackData
from bot.services.context import Services, Turn, language_of
from bot.services.correction_states import state_text
from bot.services.corrections import ReviewCorrection, clean_text, evidence_attachment, review_button, reviews
from bot.services.feature import Command, Draft, Feature, Flow, Press, Step
from rules.authority import Role
from rules.corrections import RequestState, WrongAnswer, corrected_answers
from rules.evaluate import DECISION_REASON
from rules.model import Answers, Colour
from rules.validators import mask_name, parse_number
from rules.words import colour_named
from storage.records import Campaign, CorrectionRequest, DeliveryRecord, UserProfile
from storage.unit_of_work import UnitOfWork

FLOW = "correction_review"
REVIEWER = authority(Role.REVIEWER)
LISTED = 20
READ_REQUEST = "correction_request"  # the access-log entry (mydata.what.correction_request)


class Verdict(StrEnum):
    FIX_DAY = "fix_day"
    DECISION = "decision"
    REJECT = "reject"


class ReviewDraft(Draft):
    request_id: int
    verdict: Verdict
    wrong: WrongAnswer | None = None
    colour: Colour | None = None
    days: int | None = None


@dataclass(frozen=True)
class FixDay(CallbackData, prefix="crv", action="fix"):
    request_id: int
    wrong: WrongAnswer


@dataclass(frozen=True)
class DecideByDecision(CallbackData, prefix="crv", action="dec"):
    request_id: int


@dataclass(frozen=True)
class RejectCorrection(CallbackData, prefix="crv", action="rej"):
    request_id: int


# --- the inbox ------------------------------------------------------------------------------------


async def in_scope(turn: Turn, request: CorrectionRequest) -> bool:
    return reviews(turn.services, turn.authority, request.region_code)


async def inbox(turn: Turn, args: list[str]) -> None:
    requests = [r for r in await turn.uow.corrections.open_requests() if await in_scope(turn, r)]
    if not requests:
        turn.reply.say(t("review.none_open"))
        return
    turn.reply.say(t("review.header", count=len(requests)))
    for request in requests[:LISTED]:
        turn.reply.say(t("review.line", id=request.id, state=t(f"correction.state_name.{request.state.value}"),
                         disputed=t(f"correction.disputed.{request.disputed.value}"), filed=_local(turn, request)),
                       buttons=review_button(request.id))


def _local(turn: Turn, request: CorrectionRequest) -> object:
    return request.filed_at.astimezone(turn.services.tz)


async def _request_in_scope(turn: Turn, request_id: int, attempt: str,
                            *, pressed: bool = True) -> tuple[CorrectionRequest, UserProfile] | None:
    """The open request and its person, when the reviewer's scope covers them; otherwise refuse (a button's
    answer is its toast, a typed reason's a message)."""
    request = await turn.uow.corrections.get(request_id)
    person = None if request is None else await turn.uow.users.get(request.user_id)
    if request is not None and not await in_scope(turn, request):
        await roles.deny(turn, attempt, button=pressed)
        return None
    if request is None or person is None:  # never filed, or erased with its person since
        if pressed:
            turn.reply.toast = t("review.gone")
        else:
            turn.reply.say(t("review.gone"))
        return None
    if not request.state.open:
        turn.reply.say(t("review.already_decided", state=state_text(request)))
        return None
    return request, person


async def _open(turn: Turn, pressed: ReviewCorrection) -> None:
    found = await _request_in_scope(turn, pressed.request_id, "crv:open")
    if found is None:
        return
    request, person = found
    if await turn.uow.corrections.take(request.id, turn.actor.telegram_id):
        request = replace(request, state=RequestState.IN_REVIEW, reviewer=turn.actor.telegram_id)
    await turn.uow.audit.record(turn.actor.telegram_id, "correction.read", turn.now, target=f"user:{person.id}",
                                detail={"request": request.id})
    await turn.uow.access_log.record_review(person.id, turn.actor.telegram_id, _reader_scope(turn),
                                            READ_REQUEST, turn.now)
    turn.reply.say(*await _details(turn, request, person))
    if request.evidence_file_id is not None:
        turn.reply.attach(evidence_attachment(request.evidence_file_id), t("review.evidence", id=request.id))
    turn.reply.say(t("review.decide"), buttons=_decision_buttons(request))


def _reader_scope(turn: Turn) -> str:
    """The region the person's access log names the reviewer by (a root administrator's: the issuer's)."""
    assert turn.authority is not None  # REVIEWER let the turn in
    return turn.authority.scope


def _decision_buttons(request: CorrectionRequest) -> tuple[tuple, ...]:
    rows: list[tuple] = []
    if request.day is not None:
        answers = list(WrongAnswer)
        for start in range(0, len(answers), 3):
            rows.append(tuple(button(f"review.fix.{w.value}", FixDay(request.id, w)) for w in answers[start:start + 3]))
    rows.append((button("review.btn_decision", DecideByDecision(request.id)),
                 button("review.btn_reject", RejectCorrection(request.id))))
    return tuple(rows)


async def _details(turn: Turn, request: CorrectionRequest, person: UserProfile) -> list[Text]:
    """The masked person, what they dispute and why, and the reason chain behind the colour."""
    parts = [t("review.person", id=request.id, name=mask_name(person.name), region=_region_name(turn, person),
               filed=_local(turn, request)),
             t("review.disputed", disputed=t(f"correction.disputed.{request.disputed.value}"),
               day=request.day.isoformat() if request.day else "-", reason=request.reason)]
    status = await status_card.evaluate_user(turn.services, turn.uow, person.id, turn.today)
    if status is None:
        parts.append(t("review.no_code"))
        return parts
    parts.append(t("review.chain", colour=t(f"colour.{status.colour.value}"),
                   reason=status_card.reason_text(status.reason), since=status.since,
                   version=status.policy_version or "-"))
    if status.reason.code != DECISION_REASON:
        days = [status.since] + ([request.day] if request.day is not None and request.day != status.since else [])
    else:
        days = [request.day] if request.day is not None else []
    for day in days:
        parts.append(await _day_answers(turn, person.id, day))
    return parts


async def _day_answers(turn: Turn, user_id: int, day: date) -> Text:
    declared = await turn.uow.declarations.list_between(user_id, day, day)
    if not declared:
        return t("review.day_none", day=day)
    return t("review.day", day=day, answers=answers_text(declared[0].answers))


def answers_text(answers: Answers) -> Text:
    symptoms = [t(f"symptom.{s.value}") for s in sorted(answers.symptoms)] or [t("symptom.none")]
    return t("review.answers", temperature=answers.temperature, symptoms=t("common.list", items=symptoms),
             contact=t(f"answer.contact.{'yes' if answers.close_contact else 'no'}"),
             travel=t(f"answer.travel.{answers.travel.value}"), diagnosis=t(f"answer.diagnosis.{answers.diagnosis.value}"))


def _region_name(turn: Turn, person: UserProfile) -> str:
    return regions.name_in(person.region_code, turn.language)


# --- deciding ---------------------------------------------------------------------------------------


async def _fix(turn: Turn, pressed: FixDay) -> None:
    if await _request_in_scope(turn, pressed.request_id, "crv:fix") is None:
        return
    await turn.save_state(FLOW, "reason", ReviewDraft(request_id=pressed.request_id, verdict=Verdict.FIX_DAY,
                                                      wrong=pressed.wrong))
    await _ask_reason(turn)


async def _by_decision(turn: Turn, pressed: DecideByDecision) -> None:
    if await _request_in_scope(turn, pressed.request_id, "crv:dec") is None:
        return
    await turn.save_state(FLOW, "decision", ReviewDraft(request_id=pressed.request_id, verdict=Verdict.DECISION))
    await _ask_decision(turn)


async def _reject(turn: Turn, pressed: RejectCorrection) -> None:
    if await _request_in_scope(turn, pressed.request_id, "crv:rej") is None:
        return
    await turn.save_state(FLOW, "reason", ReviewDraft(request_id=pressed.request_id, verdict=Verdict.REJECT))
    await _ask_reason(turn)


async def _ask_decision(turn: Turn) -> None:
    turn.reply.say(t("review.ask_decision", max=DECISION_DAYS_MAX))


async def _decision(turn: Turn, text: str) -> None:
    words = text.split()
    colour = colour_named(words[0]) if words else None
    days = parse_number(words[1], minimum=1, maximum=DECISION_DAYS_MAX) if len(words) == 2 else None
    if colour is None or days is None:
        turn.reply.say(t("review.bad_decision", max=DECISION_DAYS_MAX))
        return
    draft = turn.draft(ReviewDraft)
    draft.colour, draft.days = colour, days
    await turn.save_state(FLOW, "reason", draft)
    await _ask_reason(turn)


async def _ask_reason(turn: Turn) -> None:
    turn.reply.say(t("review.ask_reason", max=REVIEW_ANSWER_MAX))


REVIEW_ANSWER_MAX = 300  # the person's notice shows it above their card (a caption has 1024 characters)


async def _reason(turn: Turn, text: str) -> None:
    answer, problem = clean_text(text, REVIEW_ANSWER_MAX)
    if problem is not None or answer is None:
        turn.reply.say(problem or t("correction.text_empty"))
        return
    draft = turn.draft(ReviewDraft)
    await turn.clear_state()
    found = await _request_in_scope(turn, draft.request_id, "crv:decide", pressed=False)
    if found is None:
        return
    request, person = found
    if draft.verdict is Verdict.FIX_DAY:
        await _apply_fix(turn, request, person, draft, answer)
    elif draft.verdict is Verdict.DECISION:
        await _apply_decision(turn, request, person, draft, answer)
    else:
        await _apply_rejection(turn, request, person, answer)


async def _apply_fix(turn: Turn, request: CorrectionRequest, person: UserProfile, draft: ReviewDraft,
                     answer: str) -> None:
    assert draft.wrong is not None
    day = request.day
    declared = await turn.uow.declarations.list_between(person.id, day, day) if day is not None else []
    if day is None or not declared:
        turn.reply.say(t("review.day_gone"))
        return
    corrected = corrected_answers(declared[0].answers, draft.wrong, turn.services.policy)
    if not await _decide(turn, request, person, True, f"declaration:{draft.wrong.value}", answer):
        return
    await turn.uow.declarations.upsert(person.id, day, corrected, turn.now)
    await _announce(turn, request, person)
    turn.reply.say(t("review.fixed", id=request.id, day=day, answer=t(f"review.answer_name.{draft.wrong.value}")))


async def _apply_decision(turn: Turn, request: CorrectionRequest, person: UserProfile, draft: ReviewDraft,
                          answer: str) -> None:
    assert draft.colour is not None and draft.days is not None
    if not await _decide(turn, request, person, True, f"decision:{draft.colour.value}:{draft.days}", answer):
        return
    await _announce(turn, request, person, card=False)
    # The one decision use case: audited, superseding, and the person's card sent with it.
    await record_decision(turn, person, draft.colour, draft.days, answer[:DECISION_REASON_MAX])


async def _apply_rejection(turn: Turn, request: CorrectionRequest, person: UserProfile, answer: str) -> None:
    if not await _decide(turn, request, person, False, None, answer):
        return
    await _announce(turn, request, person)
    turn.reply.say(t("review.rejected", id=request.id))


async def _decide(turn: Turn, request: CorrectionRequest, person: UserProfile, accepted: bool, outcome: str | None,
                  answer: str) -> bool:
    """Close the request first, so of two reviewers deciding at once only one changes anything."""
    decided = await turn.uow.corrections.decide(request.id, accepted, reviewer=turn.actor.telegram_id,
                                                outcome=outcome, answer=answer, now=turn.now)
    if decided is None:
        turn.reply.say(t("review.gone"))
        return False
    await turn.uow.audit.record(turn.actor.telegram_id, "correction.accept" if accepted else "correction.reject",
                                turn.now, target=f"user:{person.id}",
                                detail={"request": request.id, "outcome": outcome or "rejected"})
    return True


async def _announce(turn: Turn, request: CorrectionRequest, person: UserProfile, *, card: bool = True) -> None:
    # Re-evaluate now (a new status gets a new credential); the notice renders the card at send time.
    await status_card.refresh_code(turn.services, turn.uow, person, turn.today, turn.now)
    await delivery.start_campaign(turn.uow, kind=OUTCOME_KIND, created_by=turn.actor.telegram_id, now=turn.now,
                                  payload=OutcomePayload(request_id=request.id, card=card),
                                  audience=delivery.Audience.from_ids([person.telegram_id], "citizen"))


class OutcomePayload(delivery.CampaignPayload):
    """The request decided, and whether the notice carries the new card (a decision brings its own)."""

    request_id: int
    card: bool = True


async def render_outcome(services: Services, campaign: Campaign, payload: OutcomePayload, recipient: DeliveryRecord,
                         uow: UnitOfWork) -> Reply | None:
    """The person's answer: accepted or rejected with the reason, above their new card (a decision's
    card comes with the decision's own notice)."""
    request = await uow.corrections.get(payload.request_id)
    user = await uow.users.get_by_telegram_id(recipient.telegram_id)
    if request is None or user is None or request.user_id != user.id:
        return None
    language = await language_of(services, uow, recipient.telegram_id)
    header = t("correction.outcome", state=state_text(request))
    notice = await status_card.card_notice(services, uow, user, header, language) if payload.card else None
    return notice if notice is not None else Reply(language).say(header)


OUTCOME_KIND = delivery.campaign_kind("correction_outcome", OutcomePayload, render_outcome)

REVIEW: Flow[ReviewDraft] = Flow(
    name=FLOW,
    draft=ReviewDraft,
    requires=REVIEWER,
    steps=(
        Step("decision", ask=_ask_decision, text=_decision),
        Step("reason", ask=_ask_reason, text=_reason),
    ),
)

async def _help(turn: Turn) -> Text | None:
    """The reviewers' commands, for those who hold the role."""
    return t("help.reviewers") if await roles.authority_for(turn, frozenset({Role.REVIEWER})) else None


FEATURE = Feature(
    name="correction_review",
    commands=(Command("corrections", inbox, requires=REVIEWER),),
    presses=(
        Press(ReviewCorrection, _open, requires=REVIEWER),
        Press(FixDay, _fix, requires=REVIEWER),
        Press(DecideByDecision, _by_decision, requires=REVIEWER),
        Press(RejectCorrection, _reject, requires=REVIEWER),
    ),
    flows=(REVIEW,),
    help=_help,
)
