"""The daily declaration: temperature, symptoms, contact, travel, diagnosis, then confirm.

One declaration per user per local day; declaring again the same day replaces it and the status is
evaluated again, provided the new answers do not lower the risk (``rules.evaluate.lowers_risk``).
"""
from __future__ import annotations

from decimal import Decimal

from bot import regions
from bot.replies import Button, Text, button, t
from bot.services import consent, status_card
from bot.services.context import Turn
from rules.evaluate import lowers_risk
from rules.model import Answers, Declaration, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature

FLOW = "checkin"
STEPS = ("temperature", "symptoms", "contact", "travel", "diagnosis", "confirm")
_BUTTON_STEPS = {"contact": "contact", "travel": "travel", "diag": "diagnosis"}
_MAX_OFFERED_AREAS = 40


async def begin(turn: Turn) -> None:
    if turn.user is None:
        turn.reply.say(t("common.register_first"), buttons=((button("button.register", "reg:start"),),))
        return
    if consent.outdated(turn):  # the privacy notice changed: accept it again before declaring
        await consent.ask_again(turn)
        return
    # The declaration is for the day it was started: confirming after midnight must not file it under the next day.
    await turn.save_state(FLOW, "temperature", {"day": turn.today.isoformat()})
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
    await turn.save_state(FLOW, "symptoms", {**turn.state.draft, "temperature": str(temperature), "symptoms": []})
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
    elif action == "area" and step == "travel" and turn.state.draft.get("offered"):
        await _on_area(turn, value)
    elif _BUTTON_STEPS.get(action) == step and _valid_choice(step, value):
        if step == "travel":
            turn.state.draft["visited"] = []  # a level answered directly replaces any areas ticked
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
    draft = {**turn.state.draft, step: value}
    if following == "travel":  # offer the risk areas in force today (none listed: the generic levels)
        draft["offered"] = await _areas_in_force(turn)
    if step == "travel":
        draft.setdefault("visited", [])
    await turn.save_state(FLOW, following, draft)
    answer = _visited_text(turn, draft["visited"]) if step == "travel" and draft["visited"] else _answer_text(step, value)
    turn.reply.say(t("checkin.answered", answer=answer), edit=True)
    _ask(turn, following)


async def _areas_in_force(turn: Turn) -> list[list[str]]:
    """[code, level] of every area listed today, high-risk first; the draft keeps what was offered."""
    listing = await turn.uow.risk_areas.listing()
    levels: dict[str, str] = {}
    for area in listing.in_force_on(turn.today):
        if levels.get(area.code) != TravelRisk.HIGH.value:
            levels[area.code] = area.level.value
    ordered = sorted(levels.items(), key=lambda item: (item[1] != TravelRisk.HIGH.value, item[0]))
    return [[code, level] for code, level in ordered[:_MAX_OFFERED_AREAS]]


async def _on_area(turn: Turn, value: str) -> None:
    offered = {code for code, _ in turn.state.draft["offered"]}
    chosen = set(turn.state.draft.get("visited", []))
    if value == "done":
        if not chosen:
            turn.reply.toast = t("checkin.pick_area_or_none")
            return
        await _advance(turn, "travel", TravelRisk.NONE.value)  # the areas themselves carry the risk
        return
    if value not in offered:
        turn.reply.toast = t("common.stale_button")
        return
    chosen ^= {value}
    await turn.save_state(FLOW, "travel", {**turn.state.draft, "visited": sorted(chosen)})
    turn.reply.say(t("checkin.ask_travel_areas"), buttons=_area_buttons(turn), edit=True)


def _area_buttons(turn: Turn) -> tuple[tuple[Button, ...], ...]:
    chosen = set(turn.state.draft.get("visited", []))
    rows = [
        (button("checkin.area_toggle", f"ci:area:{code}", mark="✅" if code in chosen else "▫️",
                name=_region_name(turn, code), level=t(f"risk.level.{level}")),)
        for code, level in turn.state.draft["offered"]
    ]
    rows.append((button("answer.travel.none", "ci:travel:none"), button("button.done", "ci:area:done")))
    return tuple(rows)


def _visited_text(turn: Turn, codes: list[str]) -> Text:
    return t("common.list", items=[_region_name(turn, code) for code in codes])


def _region_name(turn: Turn, code: str) -> str:
    region = regions.get(code)
    if region is None:
        return code
    return region.name_zh if turn.language == "zh-CN" else region.name_en


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
        if turn.state.draft.get("offered"):
            turn.reply.say(t("checkin.ask_travel_areas"), buttons=_area_buttons(turn))
        else:
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
        visited=frozenset(draft.get("visited", ())),
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
            travel=_visited_text(turn, draft["visited"]) if draft.get("visited") else t(f"answer.travel.{draft['travel']}"),
            diagnosis=t(f"answer.diagnosis.{draft['diagnosis']}"),
        ),
        buttons=((button("button.confirm", "ci:confirm"), button("button.start_over", "ci:restart")),),
    )


async def _complete(turn: Turn) -> None:
    if turn.state.draft.get("day") != turn.today.isoformat():
        turn.reply.say(t("checkin.day_changed", day=turn.today), edit=True)
        await begin(turn)
        return
    answers = _answers(turn.state.draft)
    if await _would_lower_risk(turn, answers):
        await turn.clear_state()
        turn.reply.say(t("checkin.cannot_lower", day=turn.today), edit=True)
        return
    replaced = await turn.uow.declarations.upsert(turn.user.id, turn.today, answers, turn.now)
    await turn.clear_state()
    turn.reply.say(t("checkin.replaced" if replaced else "checkin.saved", day=turn.today), edit=True)
    await status_card.present(turn)


async def _would_lower_risk(turn: Turn, answers: Answers) -> bool:
    """A same-day re-declaration may raise the risk, never lower it: only the health authority
    clears what a person declared about themselves (an administrator's /override)."""
    earlier = await turn.uow.declarations.list_between(turn.user.id, turn.today, turn.today)
    if not earlier:
        return False
    risk_areas = await turn.uow.risk_areas.listing()
    replacement = Declaration(turn.today, answers)
    return any(lowers_risk(turn.services.policy, declared, replacement, risk_areas) for declared in earlier)
