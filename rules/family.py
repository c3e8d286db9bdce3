"""Guardians and dependants, as pure decisions: who a dependant is, whose consent a record needs,
and the limits on how many people one account declares for.

A dependant is a person with no Telegram account of their own. They are stored as a citizen like any
other, keyed by a *person id* drawn from a range Telegram never hands out: Telegram user ids are
positive, so a dependant's id is negative (``is_dependant_id``). When the dependant registers from
their own account and claims the record, the negative id is replaced by their Telegram id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# PIPL art. 31: a minor under 14 needs the guardian's consent.
CONSENT_AGE = 14
MAX_DEPENDANTS = 5
MAX_GUARDIANS = 2
# A dependant's id is -(PERSON_ID_OFFSET + n): far from 0 (ERASED_ACTOR, SYSTEM) and any chat id range.
PERSON_ID_OFFSET = 10**15


class Relation(StrEnum):
    """How the dependant is related to the guardian; values key the message catalogue."""

    CHILD = "child"
    PARENT = "parent"
    GRANDPARENT = "grandparent"
    SPOUSE = "spouse"
    OTHER = "other"


class Basis(StrEnum):
    """On what ground a guardian holds a dependant's record."""

    GUARDIAN_CONSENT = "guardian_consent"  # a child under 14: the guardian's own consent (PIPL art. 31)
    ATTESTED = "attested"  # an adult: the guardian attests that the dependant agreed


class Refusal(StrEnum):
    TOO_MANY_DEPENDANTS = "too_many_dependants"
    TOO_MANY_GUARDIANS = "too_many_guardians"
    ALREADY_GUARDIAN = "already_guardian"
    SELF = "self"


def is_dependant_id(person_id: int) -> bool:
    """True for the ids of people without a Telegram account of their own."""
    return person_id <= -PERSON_ID_OFFSET


def dependant_id(n: int) -> int:
    """The person id of the ``n``-th dependant (n ≥ 0); never a Telegram user id."""
    if n < 0:
        raise ValueError("n: must not be negative")
    return -(PERSON_ID_OFFSET + n)


def age_on(birth: date, today: date) -> int:
    """Whole years between ``birth`` and ``today``."""
    years = today.year - birth.year
    return years - 1 if (today.month, today.day) < (birth.month, birth.day) else years


def basis_for(birth: date, today: date) -> Basis:
    """A child under ``CONSENT_AGE`` is added on the guardian's consent; anyone older on their own agreement."""
    return Basis.GUARDIAN_CONSENT if age_on(birth, today) < CONSENT_AGE else Basis.ATTESTED


@dataclass(frozen=True, slots=True)
class Limits:
    dependants: int = MAX_DEPENDANTS
    guardians: int = MAX_GUARDIANS


def may_add_dependant(current_dependants: int, limits: Limits = Limits()) -> Refusal | None:
    return Refusal.TOO_MANY_DEPENDANTS if current_dependants >= limits.dependants else None


def may_join_as_guardian(guardians: int, already: bool, is_self: bool, limits: Limits = Limits()) -> Refusal | None:
    """Whether one more guardian may join a dependant who has ``guardians`` already."""
    if is_self:
        return Refusal.SELF
    if already:
        return Refusal.ALREADY_GUARDIAN
    if guardians >= limits.guardians:
        return Refusal.TOO_MANY_GUARDIANS
    return None


def names_match(typed: str, stored: str) -> bool:
    """A claim must give the name the guardian recorded (spacing and case aside)."""
    return "".join(typed.split()).casefold() == "".join(stored.split()).casefold()
