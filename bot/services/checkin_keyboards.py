"""The check-in's buttons and keyboards (the state machine itself is ``CHECKIN`` in ``bot.services.checkin``):
the answers' button families, for whom a declaration is, the one-tap repeat, and the wording they share."""
from __future__ import annotations

from dataclasses import dataclass

from bot import regions
from bot.replies import Button, Text, button, t
from bot.services.callbacks import CallbackData, text
from bot.services.context import Turn
from bot.services.declaration import Contact
from rules.model import Diagnosis, Symptom, TravelRisk

NO_SYMPTOMS, DONE = "none", "done"
EVERYONE = 0  # RepeatYesterday's person for "everyone I declare for" (users.id starts at 1)


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
class DeclareFor(CallbackData, prefix="ci", action="for"):
    person: int  # users.id: the sender's or a dependant's (a surrogate id, nothing personal)


@dataclass(frozen=True)
class RepeatYesterday(CallbackData, prefix="ci", action="same"):
    person: int  # users.id, or EVERYONE
    day: int  # the day offered (its ordinal): pressed on a later day, "yesterday" would be another day


@dataclass(frozen=True)
class AnswerFully(CallbackData, prefix="ci", action="full"):
    pass


# --- keyboards and wording -----------------------------------------------------------------------


def symptom_buttons(chosen: set[Symptom]) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (button("checkin.symptom_toggle", SymptomToggle(s.value), mark="✅" if s in chosen else "▫️",
                name=t(f"symptom.{s.value}")),)
        for s in Symptom
    ]
    rows.append((button("button.no_symptoms", SymptomToggle(NO_SYMPTOMS)), button("button.done", SymptomToggle(DONE))))
    return tuple(rows)


def area_buttons(turn: Turn, offered: list[tuple[str, TravelRisk]], visited: list[str]) -> tuple[tuple[Button, ...], ...]:
    chosen = set(visited)
    rows: list[tuple[Button, ...]] = [
        (button("checkin.area_toggle", AreaToggle(code), mark="✅" if code in chosen else "▫️",
                name=region_name(turn, code), level=t(f"risk.level.{level}")),)
        for code, level in offered
    ]
    rows.append((button("answer.travel.none", TravelAnswer(TravelRisk.NONE)), button("button.done", AreaToggle(DONE))))
    return tuple(rows)


def visited_text(turn: Turn, codes: list[str]) -> Text:
    return t("common.list", items=[region_name(turn, code) for code in codes])


def region_name(turn: Turn, code: str) -> str:
    return regions.name_in(code, turn.language)


def symptoms_text(symptoms: list[Symptom]) -> Text:
    names = [t(f"symptom.{s.value}") for s in symptoms] if symptoms else [t("symptom.none")]
    return t("common.list", items=names)
