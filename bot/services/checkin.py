"""The daily declaration: temperature, symptoms, contact, travel, diagnosis, then confirm.

One declaration per user per local day; declaring again the same day replaces it
and the status is evaluated again.
"""
from __future__ import annotations

from decimal import Decimal

from bot.replies import Button, Text, button, t
from bot.services import status_card
from bot.services.context import Turn
from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature

FLOW = "checkin"
STEPS = ("temperature", "symptoms", "contact", "travel", "diagnosis", "confirm")
_BUTTON_STEPS = {"contact": "contact", "travel": "travel", "diag": "diagnosis"}


async def begin(turn: Turn) -> None:
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
        return
    await turn.save_state(FLOW, "temperature", {})
    turn.reply.say(t("checkin.intro", day=turn.today))
    _ask(turn, "temperature")


async def on_text(turn: Turn, text: str) -> None:
    if turn.state.step != "temperature":
        turn.reply.say(t("common.use_buttons"))
        _ask(turn, turn.state.step)
        return
    try:
        temperature = validate_temperature(text)
    except ValidationError as error:
        turn.reply.say(Text(f"invalid.{error.code}", dict(error.message_params)))
        _ask(turn, "temperature")
        return
    await turn.save_state(FLOW, "symptoms", {"temperature": str(temperature), "symptoms": []})
    _ask(turn, "symptoms")


async def on_button(turn: Turn, action: str, value: str) -> None:
    if action == "start":
        await begin(turn)
        return
    if turn.user is None or turn.state is None or turn.state.flow != FLOW:
        turn.reply.toast = t("common.stale_button")
        return
    step = turn.state.step
    if action == "sym" and step == "symptoms":
        await _on_symptom(turn, value)
    elif _BUTTON_STEPS.get(action) == step and _valid_choice(step, value):
        await _advance(turn, step, value)
    elif action == "confirm" and step == "confirm":
        await _complete(turn)
    elif action == "restart":
        await begin(turn)
    else:
        turn.reply.toast = t("common.stale_button")


async def _on_symptom(turn: Turn, value: str) -> None:
    chosen = set(turn.state.draft.get("symptoms", []))
    if value == "done" or value == "none":
        await _advance(turn, "symptoms", sorted(chosen) if value == "done" else [])
        return
    if value not in {s.value for s in Symptom}:
        turn.reply.toast = t("common.stale_button")
        return
    chosen ^= {value}
    await turn.save_state(FLOW, "symptoms", {**turn.state.draft, "symptoms": sorted(chosen)})
    turn.reply.say(t("checkin.ask_symptoms"), buttons=_symptom_buttons(chosen), edit=True)


def _valid_choice(step: str, value: str) -> bool:
    allowed = {
        "contact": {"yes", "no"},
        "travel": {r.value for r in TravelRisk},
        "diagnosis": {d.value for d in Diagnosis},
    }
    return value in allowed[step]


async def _advance(turn: Turn, step: str, value: object) -> None:
    following = STEPS[STEPS.index(step) + 1]
    await turn.save_state(FLOW, following, {**turn.state.draft, step: value})
    turn.reply.say(t("checkin.answered", answer=_answer_text(step, value)), edit=True)
    _ask(turn, following)


def _answer_text(step: str, value: object) -> Text:
    if step == "symptoms":
        return _symptoms_text(value)
    return t(f"answer.{step}.{value}")


def _symptoms_text(values: object) -> Text:
    names = [t(f"symptom.{v}") for v in values] if values else [t("symptom.none")]
    return t("common.list", items=names)


def _ask(turn: Turn, step: str) -> None:
    if step == "temperature":
        turn.reply.say(t("checkin.ask_temperature"))
    elif step == "symptoms":
        turn.reply.say(t("checkin.ask_symptoms"), buttons=_symptom_buttons(set(turn.state.draft.get("symptoms", []))))
    elif step == "contact":
        turn.reply.say(t("checkin.ask_contact"), buttons=_choices("contact", "contact", ("no", "yes")))
    elif step == "travel":
        turn.reply.say(t("checkin.ask_travel"), buttons=_choices("travel", "travel", [r.value for r in TravelRisk]))
    elif step == "diagnosis":
        turn.reply.say(t("checkin.ask_diagnosis"), buttons=_choices("diag", "diagnosis", [d.value for d in Diagnosis]))
    else:
        _show_summary(turn)


def _choices(action: str, step: str, values: object) -> tuple[tuple[Button, ...], ...]:
    return tuple((button(f"answer.{step}.{v}", f"ci:{action}:{v}"),) for v in values)


def _symptom_buttons(chosen: set[str]) -> tuple[tuple[Button, ...], ...]:
    rows = [
        (button("checkin.symptom_toggle", f"ci:sym:{s.value}", mark="✅" if s.value in chosen else "▫️",
                name=t(f"symptom.{s.value}")),)
        for s in Symptom
    ]
    rows.append((button("button.no_symptoms", "ci:sym:none"), button("button.done", "ci:sym:done")))
    return tuple(rows)


def _answers(draft: dict) -> Answers:
    return Answers(
        temperature=Decimal(draft["temperature"]),
        symptoms=frozenset(Symptom(s) for s in draft["symptoms"]),
        close_contact=draft["contact"] == "yes",
        travel=TravelRisk(draft["travel"]),
        diagnosis=Diagnosis(draft["diagnosis"]),
    )


def _show_summary(turn: Turn) -> None:
    draft = turn.state.draft
    turn.reply.say(
        t(
            "checkin.summary",
            day=turn.today,
            temperature=draft["temperature"],
            symptoms=_symptoms_text(draft["symptoms"]),
            contact=t(f"answer.contact.{draft['contact']}"),
            travel=t(f"answer.travel.{draft['travel']}"),
            diagnosis=t(f"answer.diagnosis.{draft['diagnosis']}"),
        ),
        buttons=((button("button.confirm", "ci:confirm"), button("button.start_over", "ci:restart")),),
    )


async def _complete(turn: Turn) -> None:
    answers = _answers(turn.state.draft)
    replaced = await turn.uow.declarations.upsert(turn.user.id, turn.today, answers, turn.now)
    await turn.clear_state()
    turn.reply.say(t("checkin.replaced" if replaced else "checkin.saved", day=turn.today), edit=True)
    await status_card.present(turn)
