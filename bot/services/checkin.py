"""The daily declaration: for whom, then temperature, symptoms, contact, travel, diagnosis, then confirm.

Someone who holds dependants (``bot.services.family``) is first asked for whom: themselves, each
dependant by name, or everyone the same as yesterday; each person's answers are stored and evaluated
separately (``bot.services.household``). When a person's declaration yesterday was entirely normal,
the one-tap "all the same as yesterday" is offered (``RepeatYesterday``, also under the daily
reminder); the policy's ``temperature_every_day`` makes it ask for today's reading. An answer that is
not normal always continues into the full flow.

One declaration per user per local day; declaring again the same day replaces it and the status is
evaluated again, provided the new answers do not lower the risk (``rules.evaluate.lowers_risk``).

Where a declaration starts (the draft, for whom, the one-tap repeat and its daily reading) is
``bot.services.checkin_start``; the questions, the answers and the confirmation are here, and the
whole state machine is ``CHECKIN`` at the end of this module: each step, what it asks, and the
typed answer or buttons it takes. The dispatcher holds a button to its step, so a press from an
older keyboard gets the "stale button" toast before any handler here runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.replies import Text, button, t
from bot.services import household
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData
from bot.services.checkin_keyboards import (
    DONE,
    NO_SYMPTOMS,
    AnswerFully,
    AreaToggle,
    ContactAnswer,
    DeclareFor,
    DiagnosisAnswer,
    SymptomToggle,
    TravelAnswer,
    area_buttons,
    symptom_buttons,
    symptoms_text,
    visited_text,
)
from bot.services.checkin_start import (
    FLOW,
    CheckinDraft,
    answer_fully,
    ask_same_temperature,
    ask_symptoms,
    ask_temperature,
    ask_whom,
    begin,
    current,
    declare_for,
    next_in_queue,
    offer_same,
    same_temperature,
)
from bot.services.context import Turn
from bot.services.declaration import Contact, offered_areas
from bot.services.feature import Flow, Press, Step
from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature


# --- the buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmCheckin(CallbackData, prefix="ci", action="confirm"):
    pass


@dataclass(frozen=True)
class RestartCheckin(CallbackData, prefix="ci", action="restart"):
    pass


async def _restart(turn: Turn, pressed: RestartCheckin) -> None:
    await begin(turn)


# --- the questions (the first two, where a start leads, are in checkin_start) --------------------- -----------------------------------------------------------------------------


async def _ask_contact(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_contact"),
                   buttons=tuple((button(f"answer.contact.{c}", ContactAnswer(c)),) for c in Contact))


async def _ask_travel(turn: Turn) -> None:
    draft = turn.draft(CheckinDraft)
    if draft.offered:
        turn.reply.say(t("checkin.ask_travel_areas"), buttons=area_buttons(turn, draft.offered, draft.visited))
    else:
        turn.reply.say(t("checkin.ask_travel"),
                       buttons=tuple((button(f"answer.travel.{r}", TravelAnswer(r)),) for r in TravelRisk))


async def _ask_diagnosis(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_diagnosis"),
                   buttons=tuple((button(f"answer.diagnosis.{d}", DiagnosisAnswer(d)),) for d in Diagnosis))


async def _show_summary(turn: Turn) -> None:
    draft = turn.draft(CheckinDraft)
    turn.reply.say(
        t(
            "checkin.summary",
            day=turn.today,
            temperature=str(draft.temperature),
            symptoms=symptoms_text(draft.symptoms),
            contact=t(f"answer.contact.{draft.contact}"),
            travel=visited_text(turn, draft.visited) if draft.visited else t(f"answer.travel.{draft.travel}"),
            diagnosis=t(f"answer.diagnosis.{draft.diagnosis}"),
        ),
        buttons=((button("button.confirm", ConfirmCheckin()), button("button.start_over", RestartCheckin())),),
    )


# --- the answers -------------------------------------------------------------------------------


async def _temperature(turn: Turn, answer: str) -> None:
    try:
        temperature = validate_temperature(answer)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        await ask_temperature(turn)
        return
    draft = turn.draft(CheckinDraft)
    draft.temperature, draft.symptoms = temperature, []
    await turn.save_state(FLOW, "symptoms", draft)
    await ask_symptoms(turn)


async def _symptom(turn: Turn, pressed: SymptomToggle) -> None:
    draft = turn.draft(CheckinDraft)
    if pressed.choice in (DONE, NO_SYMPTOMS):
        draft.symptoms = sorted(set(draft.symptoms)) if pressed.choice == DONE else []
        await _answered(turn, "symptoms", draft, symptoms_text(draft.symptoms))
        return
    symptom = next((s for s in Symptom if s.value == pressed.choice), None)
    if symptom is None:
        turn.reply.toast = t("common.stale_button")
        return
    draft.symptoms = sorted(set(draft.symptoms) ^ {symptom})
    await turn.save_state(FLOW, "symptoms", draft)
    turn.reply.say(t("checkin.ask_symptoms"), buttons=symptom_buttons(set(draft.symptoms)), edit=True)


async def _contact(turn: Turn, pressed: ContactAnswer) -> None:
    draft = turn.draft(CheckinDraft)
    draft.contact = pressed.answer
    await _answered(turn, "contact", draft, t(f"answer.contact.{pressed.answer}"))


async def _travel(turn: Turn, pressed: TravelAnswer) -> None:
    draft = turn.draft(CheckinDraft)
    draft.travel, draft.visited = pressed.level, []  # a level answered directly replaces any areas ticked
    await _answered(turn, "travel", draft, t(f"answer.travel.{pressed.level}"))


async def _area(turn: Turn, pressed: AreaToggle) -> None:
    draft = turn.draft(CheckinDraft)
    if not draft.offered:  # the generic levels were asked: no area button of ours is on screen
        turn.reply.toast = t("common.stale_button")
        return
    if pressed.code == DONE:
        if not draft.visited:
            turn.reply.toast = t("checkin.pick_area_or_none")
            return
        draft.travel = TravelRisk.NONE  # the areas themselves carry the risk
        await _answered(turn, "travel", draft, visited_text(turn, draft.visited))
        return
    if pressed.code not in {code for code, _ in draft.offered}:
        turn.reply.toast = t("common.stale_button")
        return
    draft.visited = sorted(set(draft.visited) ^ {pressed.code})
    await turn.save_state(FLOW, "travel", draft)
    turn.reply.say(t("checkin.ask_travel_areas"), buttons=area_buttons(turn, draft.offered, draft.visited), edit=True)


async def _diagnosis(turn: Turn, pressed: DiagnosisAnswer) -> None:
    draft = turn.draft(CheckinDraft)
    draft.diagnosis = pressed.diagnosis
    await _answered(turn, "diagnosis", draft, t(f"answer.diagnosis.{pressed.diagnosis}"))


async def _answered(turn: Turn, step: str, draft: CheckinDraft, answer: Text) -> None:
    """Record the step's answer, say what was answered in place of the question, ask the next one."""
    following = CHECKIN.after(step)
    if following == "travel":  # offer the risk areas in force today (none listed: the generic levels)
        draft.offered = await offered_areas(turn)
    await turn.save_state(FLOW, following, draft)
    turn.reply.say(t("checkin.answered", answer=answer), edit=True)
    next_step = CHECKIN.step(following)
    assert next_step is not None
    await next_step.ask(turn)


async def _confirm(turn: Turn, pressed: ConfirmCheckin) -> None:
    draft = turn.draft(CheckinDraft)
    if draft.day != turn.today:
        turn.reply.say(t("checkin.day_changed", day=turn.today), edit=True)
        await begin(turn)
        return
    someone = await current(turn)
    if someone is None:  # the dependant was erased or claimed their record meanwhile
        await turn.clear_state()
        turn.reply.toast = t("common.stale_button")
        return
    await household.record(turn, someone, _answers(draft))
    await next_in_queue(turn)


def _answers(draft: CheckinDraft) -> Answers:
    assert draft.temperature is not None and draft.travel is not None and draft.diagnosis is not None
    return Answers(
        temperature=draft.temperature,
        symptoms=frozenset(draft.symptoms),
        close_contact=draft.contact is Contact.YES,
        travel=draft.travel,
        diagnosis=draft.diagnosis,
        visited=frozenset(draft.visited),
    )


# --- the state machine -------------------------------------------------------------------------

CHECKIN: Flow[CheckinDraft] = Flow(
    name=FLOW,
    draft=CheckinDraft,
    requires=REGISTERED,
    steps=(
        # Asked only of someone who holds dependants: me, each of them, or everyone the same as yesterday.
        Step("whom", ask=ask_whom, presses=(Press(DeclareFor, declare_for),)),
        # Yesterday entirely normal: confirm it again (RepeatYesterday, a press of the citizen feature) or answer.
        Step("offer", ask=offer_same, presses=(Press(AnswerFully, answer_fully),)),
        # The one-tap repeat under a policy that wants a reading every day: today's temperature, the rest repeated.
        Step("same_temperature", ask=ask_same_temperature, text=same_temperature),
        Step("temperature", ask=ask_temperature, text=_temperature),
        Step("symptoms", ask=ask_symptoms, presses=(Press(SymptomToggle, _symptom),)),
        Step("contact", ask=_ask_contact, presses=(Press(ContactAnswer, _contact),)),
        # Areas in force today are offered to tick; without any, the generic levels (TravelAnswer).
        Step("travel", ask=_ask_travel, presses=(Press(TravelAnswer, _travel), Press(AreaToggle, _area))),
        Step("diagnosis", ask=_ask_diagnosis, presses=(Press(DiagnosisAnswer, _diagnosis),)),
        Step("confirm", ask=_show_summary, presses=(Press(ConfirmCheckin, _confirm),)),
    ),
    anytime=(Press(RestartCheckin, _restart),),
)
