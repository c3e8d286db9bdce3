"""The daily declaration: temperature, symptoms, contact, travel, diagnosis, then confirm.

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

from bot import regions
from bot.replies import Button, Text, button, t
from bot.services import consent, status_card
from bot.services.access import REGISTERED
from bot.services.callbacks import CallbackData, text
from bot.services.context import Turn
from bot.services.declaration import Contact, Declared, declare, offered_areas
from bot.services.feature import Draft, Flow, Press, Step
from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature

FLOW = "checkin"
_NO_SYMPTOMS, _DONE = "none", "done"


class CheckinDraft(Draft):
    """The answers so far; the keys are those of the dict drafts stored before, so those still load."""

    day: date | None = None  # the day the declaration was started for (confirming after midnight must not move it)
    temperature: Decimal | None = None
    symptoms: list[Symptom] = []
    contact: Contact | None = None
    travel: TravelRisk | None = None
    diagnosis: Diagnosis | None = None
    offered: list[tuple[str, TravelRisk]] = []  # the risk areas in force when the travel question was asked
    visited: list[str] = []  # which of them the person ticked


# --- the buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymptomToggle(CallbackData, prefix="ci", action="sym"):
    choice: str = text(max_length=24)  # a Symptom's value, or "none" / "done"


@dataclass(frozen=True)
class ContactAnswer(CallbackData, prefix="ci", action="contact"):
    answer: Contact


@dataclass(frozen=True)
class TravelAnswer(CallbackData, prefix="ci", action="travel"):
    level: TravelRisk


@dataclass(frozen=True)
class AreaToggle(CallbackData, prefix="ci", action="area"):
    code: str = text(max_length=12)  # an offered region code, or "done"


@dataclass(frozen=True)
class DiagnosisAnswer(CallbackData, prefix="ci", action="diag"):
    diagnosis: Diagnosis


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
    await turn.save_state(FLOW, "temperature", CheckinDraft(day=turn.today))
    turn.reply.say(t("checkin.intro", day=turn.today))
    await _ask_temperature(turn)


async def _restart(turn: Turn, pressed: RestartCheckin) -> None:
    await begin(turn)


# --- the questions -----------------------------------------------------------------------------


async def _ask_temperature(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_temperature"))


async def _ask_symptoms(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_symptoms"), buttons=_symptom_buttons(set(turn.draft(CheckinDraft).symptoms)))


async def _ask_contact(turn: Turn) -> None:
    turn.reply.say(t("checkin.ask_contact"),
                   buttons=tuple((button(f"answer.contact.{c}", ContactAnswer(c)),) for c in Contact))


async def _ask_travel(turn: Turn) -> None:
    draft = turn.draft(CheckinDraft)
    if draft.offered:
        turn.reply.say(t("checkin.ask_travel_areas"), buttons=_area_buttons(turn, draft))
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
            symptoms=_symptoms_text(draft.symptoms),
            contact=t(f"answer.contact.{draft.contact}"),
            travel=_visited_text(turn, draft.visited) if draft.visited else t(f"answer.travel.{draft.travel}"),
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
    if pressed.choice in (_DONE, _NO_SYMPTOMS):
        draft.symptoms = sorted(set(draft.symptoms)) if pressed.choice == _DONE else []
        await _answered(turn, "symptoms", draft, _symptoms_text(draft.symptoms))
        return
    symptom = next((s for s in Symptom if s.value == pressed.choice), None)
    if symptom is None:
        turn.reply.toast = t("common.stale_button")
        return
    draft.symptoms = sorted(set(draft.symptoms) ^ {symptom})
    await turn.save_state(FLOW, "symptoms", draft)
    turn.reply.say(t("checkin.ask_symptoms"), buttons=_symptom_buttons(set(draft.symptoms)), edit=True)


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
    if pressed.code == _DONE:
        if not draft.visited:
            turn.reply.toast = t("checkin.pick_area_or_none")
            return
        draft.travel = TravelRisk.NONE  # the areas themselves carry the risk
        await _answered(turn, "travel", draft, _visited_text(turn, draft.visited))
        return
    if pressed.code not in {code for code, _ in draft.offered}:
        turn.reply.toast = t("common.stale_button")
        return
    draft.visited = sorted(set(draft.visited) ^ {pressed.code})
    await turn.save_state(FLOW, "travel", draft)
    turn.reply.say(t("checkin.ask_travel_areas"), buttons=_area_buttons(turn, draft), edit=True)


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
    declared = Declared.DAY_CHANGED if draft.day != turn.today else await declare(turn, draft.day, _answers(draft))
    if declared is Declared.DAY_CHANGED:
        turn.reply.say(t("checkin.day_changed", day=turn.today), edit=True)
        await begin(turn)
        return
    await turn.clear_state()
    if declared is Declared.CANNOT_LOWER:
        turn.reply.say(t("checkin.cannot_lower", day=turn.today), edit=True)
        return
    turn.reply.say(t(f"checkin.{declared.value}", day=turn.today), edit=True)
    await status_card.present(turn)


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


# --- keyboards and wording -----------------------------------------------------------------------


def _symptom_buttons(chosen: set[Symptom]) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (button("checkin.symptom_toggle", SymptomToggle(s.value), mark="✅" if s in chosen else "▫️",
                name=t(f"symptom.{s.value}")),)
        for s in Symptom
    ]
    rows.append((button("button.no_symptoms", SymptomToggle(_NO_SYMPTOMS)), button("button.done", SymptomToggle(_DONE))))
    return tuple(rows)


def _area_buttons(turn: Turn, draft: CheckinDraft) -> tuple[tuple[Button, ...], ...]:
    chosen = set(draft.visited)
    rows: list[tuple[Button, ...]] = [
        (button("checkin.area_toggle", AreaToggle(code), mark="✅" if code in chosen else "▫️",
                name=_region_name(turn, code), level=t(f"risk.level.{level}")),)
        for code, level in draft.offered
    ]
    rows.append((button("answer.travel.none", TravelAnswer(TravelRisk.NONE)), button("button.done", AreaToggle(_DONE))))
    return tuple(rows)


def _visited_text(turn: Turn, codes: list[str]) -> Text:
    return t("common.list", items=[_region_name(turn, code) for code in codes])


def _region_name(turn: Turn, code: str) -> str:
    region = regions.get(code)
    if region is None:
        return code
    return region.name_zh if turn.language == "zh-CN" else region.name_en


def _symptoms_text(symptoms: list[Symptom]) -> Text:
    names = [t(f"symptom.{s.value}") for s in symptoms] if symptoms else [t("symptom.none")]
    return t("common.list", items=names)


# --- the state machine -------------------------------------------------------------------------

CHECKIN: Flow[CheckinDraft] = Flow(
    name=FLOW,
    draft=CheckinDraft,
    requires=REGISTERED,
    steps=(
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
