"""Declaring a day's health, whatever the channel: the chat's confirm step and the Mini App's form both
come here, so both store the same thing under the same rules.

- :func:`read_form` takes the answers a form gathered in one go and checks each one as the chat's
  steps do (the temperature through ``rules.validators.validate_temperature``, every choice against
  the same enums, the visited areas against the risk areas in force today); a refused answer comes
  back as the chat's own message, keyed by its field.
- :func:`declare` stores the answers for the day they were started for, unless the day changed
  meanwhile or a same-day change would lower the risk (``rules.evaluate.lowers_risk``). The caller then
  refreshes the code through ``status_card`` (the one refresh use case).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from bot.replies import Text, t
from bot.services.context import Turn
from rules.evaluate import lowers_risk
from rules.model import Answers, Declaration, Diagnosis, Symptom, TravelRisk
from rules.validators import ValidationError, validate_temperature
from storage.records import UserProfile

MAX_OFFERED_AREAS = 40  # the most risk areas a declaration offers to tick (the chat's keyboard, the form)
E = TypeVar("E", bound=StrEnum)
FORM_FIELDS = ("temperature", "symptoms", "contact", "travel", "visited", "diagnosis")


class Contact(StrEnum):
    NO = "no"  # listed first: the usual answer
    YES = "yes"


class Declared(StrEnum):
    """What :func:`declare` did."""

    SAVED = "saved"
    REPLACED = "replaced"  # today's earlier declaration was replaced
    CANNOT_LOWER = "cannot_lower"  # refused: the change would lower the risk
    DAY_CHANGED = "day_changed"  # refused: begun for a day that is over


@dataclass(frozen=True, slots=True)
class FormProblems(Exception):
    """Answers the form cannot take: field name → the message the chat would have given."""

    problems: Mapping[str, Text]


async def offered_areas(turn: Turn) -> list[tuple[str, TravelRisk]]:
    """The risk areas in force today that a declaration offers to tick (none listed: the generic levels)."""
    listed = (await turn.uow.risk_areas.listing()).listed_on(turn.today)
    return list(listed[:MAX_OFFERED_AREAS])


async def read_form(turn: Turn, form: Mapping[str, object]) -> Answers:
    """The day's answers from a form (``FORM_FIELDS``); raises FormProblems naming every bad field."""
    problems: dict[str, Text] = {}
    temperature = None
    try:
        temperature = validate_temperature(_text(form.get("temperature")))
    except ValidationError as error:
        problems["temperature"] = Text(f"invalid.{error.code}", dict(error.message_params))
    symptoms = _choices(form.get("symptoms"), Symptom, "symptoms", problems)
    contact = _choice(form.get("contact"), Contact, "contact", problems)
    diagnosis = _choice(form.get("diagnosis"), Diagnosis, "diagnosis", problems)
    offered = dict(await offered_areas(turn))
    visited: set[str] = set()
    travel: TravelRisk | None = TravelRisk.NONE
    if offered:  # as in the chat: tick the areas in force, or say none
        ticked = _strings(form.get("visited"), "visited", problems)
        visited = {code for code in ticked if code in offered}
        if len(visited) != len(set(ticked)):  # an area no longer in force: the chat's stale-button answer
            problems["visited"] = t("common.stale_button")
    else:
        travel = _choice(form.get("travel"), TravelRisk, "travel", problems)
    if problems or temperature is None or contact is None or diagnosis is None or travel is None:
        raise FormProblems(problems)
    return Answers(temperature=temperature, symptoms=frozenset(symptoms), close_contact=contact is Contact.YES,
                   travel=travel, diagnosis=diagnosis, visited=frozenset(visited))


async def declare(turn: Turn, day: date | None, answers: Answers, someone: UserProfile | None = None) -> Declared:
    """Store ``answers`` as the declaration for ``day`` (the day it was begun for) of ``someone``: the
    sender by default, or a dependant they declare for (marked as a proxy declaration)."""
    person = someone if someone is not None else turn.user
    assert person is not None, "callers require a registered citizen"
    if day != turn.today:
        return Declared.DAY_CHANGED
    by_proxy = turn.user is None or person.id != turn.user.id
    if by_proxy:
        # A second guardian may declare for them at the same moment. Taken after the sender's own lock;
        # nothing holds a dependant's lock while waiting for another, so the order cannot deadlock.
        await turn.uow.lock_user(person.telegram_id)
    if await _would_lower_risk(turn, person.id, answers):
        return Declared.CANNOT_LOWER
    replaced = await turn.uow.declarations.upsert(person.id, turn.today, answers, turn.now, by_proxy=by_proxy)
    return Declared.REPLACED if replaced else Declared.SAVED


async def _would_lower_risk(turn: Turn, user_id: int, answers: Answers) -> bool:
    """A same-day re-declaration may raise the risk, never lower it: lowering a self-declared risk is a
    correction request (bot.services.corrections)."""
    earlier = await turn.uow.declarations.list_between(user_id, turn.today, turn.today)
    if not earlier:
        return False
    risk_areas = await turn.uow.risk_areas.listing()
    replacement = Declaration(turn.today, answers)
    return any(lowers_risk(turn.services.policy, declared, replacement, risk_areas) for declared in earlier)


def _text(value: object) -> str:
    # A number sent as JSON reads as the chat would read it typed; anything else is "not a number".
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def _strings(value: object, field: str, problems: dict[str, Text]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or len(value) > 64:
        problems[field] = t("common.use_buttons")
        return []
    return value


def _choice(value: object, kind: type[E], field: str, problems: dict[str, Text]) -> E | None:
    found = next((member for member in kind if isinstance(value, str) and member.value == value), None)
    if found is None:
        problems[field] = t("common.use_buttons")
    return found


def _choices(value: object, kind: type[E], field: str, problems: dict[str, Text]) -> set[E]:
    chosen: set[E] = set()
    for item in _strings(value, field, problems):
        member = _choice(item, kind, field, problems)
        if member is not None:
            chosen.add(member)
    return chosen
