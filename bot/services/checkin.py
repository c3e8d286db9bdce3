"""The daily declaration: for whom, then temperature, symptoms, contact, travel, diagnosis, then confirm.

Someone who holds dependants (``bot.services.family``) is first asked for whom: themselves, each
dependant by name, or everyone the same as yesterday; each person's answers are stored and evaluated
separately (``bot.services.household``). When a person's declaration yesterday was entirely normal,
the one-tap "all the same as yesterday" is offered (``RepeatYesterday``, also under the daily
reminder); the policy's ``temperature_every_day`` makes it ask for today's reading. An answer that is
not normal always continues into the full flow.

One declaration per user per local day; declaring again the same day replaces it and the status is
evaluated again, provided the new answers do not lower the risk (``rules.evaluate.lowers_risk``).

The whole state machine is ``CHECKIN`` at the end of this module: each step, what it asks, and the
typed answer or buttons it takes. The dispatcher holds a button to its step, so a press from an
older keyboard gets the "stale button" toast before any handler here runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.replies import Button, Text, button, t
from bot.services import consent, household
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData
from bot.services.checkin_keyboards import (
    DONE,
    EVERYONE,
    NO_SYMPTOMS,
    AnswerFully,
    AreaToggle,
    ContactAnswer,
    DeclareFor,
    DiagnosisAnswer,
    RepeatYesterday,
    SymptomToggle,
    TravelAnswer,
    area_buttons,
    symptom_buttons,
    symptoms_text,
    visited_text,
)
from bot.services.context import Turn
from bot.services.declaration import Contact, offered_areas
from bot.services.feature import Draft, Flow, Press, Step
from rules.declaring import entirely_normal, repeated
from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature
from storage.records import UserProfile

FLOW = "checkin"


class CheckinDraft(Draft):
    """The answers so far; the keys are those of the dict drafts stored before, so those still load."""

    day: date | None = None  # the day the declaration was started for (confirming after midnight must not move it)
    person: int | None = None  # users.id of the dependant declared for; None: the sender themselves
    queue: list[int] = []  # users.id of the people still to declare for by the one-tap repeat, after this one
    temperature: Decimal | None = None
    symptoms: list[Symptom] = []
    contact: Contact | None = None
    travel: TravelRisk | None = None
    diagnosis: Diagnosis | None = None
    offered: list[tuple[str, TravelRisk]] = []  # the risk areas in force when the travel question was asked
    visited: list[str] = []  # which of them the person ticked


# --- the buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmCheckin(CallbackData, prefix="ci", action="confirm"):
    pass


@dataclass(frozen=True)
class RestartCheckin(CallbackData, prefix="ci", action="restart"):
    pass


# --- starting ----------------------------------------------------------------------------------


async def begin(turn: Turn) -> None:
    """Start today's declaration (the entry points require a registered citizen)."""
    if consent.outdated(turn):  # the privacy notice changed: accept it again before declaring
        await consent.ask_again(turn)
        return
    assert turn.user is not None
    if len(await household.people(turn)) == 1:
        await _start_for(turn, turn.user)
        return
    await turn.save_state(FLOW, "whom", CheckinDraft(day=turn.today))
    await _ask_whom(turn)


async def _restart(turn: Turn, pressed: RestartCheckin) -> None:
    await begin(turn)


async def _start_for(turn: Turn, someone: UserProfile) -> None:
    """Yesterday entirely normal: offer the one-tap repeat; otherwise the questions."""
    draft = CheckinDraft(day=turn.today, person=None if household.is_self(turn, someone) else someone.id)
    if await household.repeatable(turn, someone) is not None:
        await turn.save_state(FLOW, "offer", draft)
        await _offer_same(turn)
        return
    await _full_flow(turn, draft, someone)


async def _full_flow(turn: Turn, draft: CheckinDraft, someone: UserProfile) -> None:
    await turn.save_state(FLOW, "temperature", draft)
    if household.is_self(turn, someone):
        turn.reply.say(t("checkin.intro", day=turn.today))
    else:
        turn.reply.say(t("checkin.intro_for", name=someone.name, day=turn.today))
    await _ask_temperature(turn)


async def _current(turn: Turn) -> UserProfile | None:
    """Whom the declaration in progress is for (None: no longer someone the sender declares for)."""
    draft = turn.draft(CheckinDraft)
    if draft.person is None:
        return turn.user
    return await household.person(turn, draft.person)


# --- for whom, and the one-tap repeat --------------------------------------------------------------


async def _ask_whom(turn: Turn) -> None:
    everyone = await household.people(turn)
    rows: list[tuple[Button, ...]] = [
        (button("checkin.declare_for", DeclareFor(someone.id), name=household.name_of(turn, someone)),)
        for someone in everyone
    ]
    if await household.everyone_repeatable(turn):
        rows.append((button("checkin.button_everyone_same", RepeatYesterday(EVERYONE, turn.today.toordinal())),))
    turn.reply.say(t("checkin.ask_whom", day=turn.today), buttons=tuple(rows))


async def _declare_for(turn: Turn, pressed: DeclareFor) -> None:
    someone = await household.person(turn, pressed.person)
    if someone is None:
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("checkin.answered", answer=household.name_of(turn, someone)), edit=True)
    await _start_for(turn, someone)


async def _offer_same(turn: Turn) -> None:
    someone = await _current(turn)
    same = await household.repeatable(turn, someone) if someone is not None else None
    if someone is None or same is None:  # changed meanwhile (a declaration withdrawn, a link ended)
        await begin(turn)
        return
    key = "checkin.offer_same_new_reading" if turn.services.policy.temperature_every_day else "checkin.offer_same"
    if not household.is_self(turn, someone):
        key += "_for"
    turn.reply.say(
        t(key, name=someone.name, temperature=str(same.temperature)),
        buttons=((button("button.confirm", RepeatYesterday(someone.id, turn.today.toordinal())),
                  button("checkin.button_answer_fully", AnswerFully())),),
    )


async def _answer_fully(turn: Turn, pressed: AnswerFully) -> None:
    someone = await _current(turn)
    if someone is None:
        await turn.clear_state()
        turn.reply.toast = t("common.stale_button")
        return
    turn.reply.say(t("checkin.answered", answer=t("checkin.button_answer_fully")), edit=True)
    await _full_flow(turn, turn.draft(CheckinDraft), someone)


async def repeat_yesterday(turn: Turn, pressed: RepeatYesterday) -> None:
    """One press declares yesterday's normal answers again, for one person or everyone the sender declares for
    (from the offer, the for-whom question or the daily reminder, in the flow or not)."""
    if consent.outdated(turn):
        await consent.ask_again(turn)
        return
    if pressed.day != turn.today.toordinal():  # offered on another day
        turn.reply.say(t("checkin.day_changed", day=turn.today), edit=True)
        await begin(turn)
        return
    if pressed.person == EVERYONE:
        targets = await household.still_to_declare(turn)
        if not targets:
            turn.reply.say(t("checkin.everyone_declared", day=turn.today), edit=True)
            return
    else:
        someone = await household.person(turn, pressed.person)
        if someone is None:
            turn.reply.toast = t("common.stale_button")
            return
        targets = [someone]
    same = [await household.repeatable(turn, someone) for someone in targets]
    if any(answers is None for answers in same):  # not (or no longer) all normal: the full flow
        turn.reply.say(t("checkin.not_same"), edit=True)
        await begin(turn)
        return
    if turn.services.policy.temperature_every_day:
        first, *rest = targets
        await turn.save_state(FLOW, "same_temperature", CheckinDraft(
            day=turn.today, person=None if household.is_self(turn, first) else first.id, queue=[p.id for p in rest]))
        turn.reply.say(t("checkin.same_confirmed"), edit=True)
        await _ask_same_temperature(turn)
        return
    await turn.clear_state()
    turn.reply.say(t("checkin.same_confirmed"), edit=True)
    for someone, answers in zip(targets, same, strict=True):
        assert answers is not None
        await household.record(turn, someone, repeated(answers), edit=False)


async def _ask_same_temperature(turn: Turn) -> None:
    someone = await _current(turn)
    if someone is None:
        await _next_in_queue(turn)
        return
    if household.is_self(turn, someone):
        turn.reply.say(t("checkin.ask_temperature"))
    else:
        turn.reply.say(t("checkin.ask_temperature_for", name=someone.name))


async def _same_temperature(turn: Turn, answer: str) -> None:
    try:
        temperature = validate_temperature(answer)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        await _ask_same_temperature(turn)
        return
    draft, someone = turn.draft(CheckinDraft), await _current(turn)
    if someone is None:
        await _next_in_queue(turn)
        return
    same = await household.repeatable(turn, someone)
    answers = repeated(same, temperature) if same is not None else None
    if answers is None or not entirely_normal(turn.services.policy, answers):  # a fever: every question
        draft.temperature, draft.symptoms = temperature, []
        await turn.save_state(FLOW, "symptoms", draft)
        turn.reply.say(t("checkin.not_same"))
        await _ask_symptoms(turn)
        return
    await household.record(turn, someone, answers, edit=False)
    await _next_in_queue(turn)


async def _next_in_queue(turn: Turn) -> None:
    """After one person's declaration, the next one the one-tap repeat was pressed for, if any."""
    queue = list(turn.draft(CheckinDraft).queue) if turn.state is not None and turn.state.flow == FLOW else []
    while queue:
        someone = await household.person(turn, queue.pop(0))
        if someone is not None:
            await turn.save_state(FLOW, "same_temperature", CheckinDraft(
                day=turn.today, person=None if household.is_self(turn, someone) else someone.id, queue=queue))
            await _ask_same_temperature(turn)
            return
    await turn.clear_state()


# --- the questions -----------------------------------------------------------------------------


async def _ask_temperature(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_temperature"))


async def _ask_symptoms(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_symptoms"), buttons=symptom_buttons(set(turn.draft(CheckinDraft).symptoms)))


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
        await _ask_temperature(turn)
        return
    draft = turn.draft(CheckinDraft)
    draft.temperature, draft.symptoms = temperature, []
    await turn.save_state(FLOW, "symptoms", draft)
    await _ask_symptoms(turn)


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
    someone = await _current(turn)
    if someone is None:  # the dependant was erased or claimed their record meanwhile
        await turn.clear_state()
        turn.reply.toast = t("common.stale_button")
        return
    await household.record(turn, someone, _answers(draft))
    await _next_in_queue(turn)


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
        Step("whom", ask=_ask_whom, presses=(Press(DeclareFor, _declare_for),)),
        # Yesterday entirely normal: confirm it again (RepeatYesterday, a press of the citizen feature) or answer.
        Step("offer", ask=_offer_same, presses=(Press(AnswerFully, _answer_fully),)),
        # The one-tap repeat under a policy that wants a reading every day: today's temperature, the rest repeated.
        Step("same_temperature", ask=_ask_same_temperature, text=_same_temperature),
        Step("temperature", ask=_ask_temperature, text=_temperature),
        Step("symptoms", ask=_ask_symptoms, presses=(Press(SymptomToggle, _symptom),)),
        Step("contact", ask=_ask_contact, presses=(Press(ContactAnswer, _contact),)),
        # Areas in force today are offered to tick; without any, the generic levels (TravelAnswer).
        Step("travel", ask=_ask_travel, presses=(Press(TravelAnswer, _travel), Press(AreaToggle, _area))),
        Step("diagnosis", ask=_ask_diagnosis, presses=(Press(DiagnosisAnswer, _diagnosis),)),
        Step("confirm", ask=_show_summary, presses=(Press(ConfirmCheckin, _confirm),)),
    ),
    anytime=(Press(RestartCheckin, _restart),),
)
