"""The published colour policy, as data.

Health officials change thresholds often, so every threshold lives in a TOML document
(``rules/default_policy.toml`` is the packaged default) and this module only interprets it.
``parse_policy`` is strict: a policy that is not exactly understood is refused with a
``PolicyError`` naming the file and the dotted field, never half-applied.
"""
from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from rules.model import Answers, Colour, Diagnosis, Reason, Symptom, TravelRisk

DEFAULT_POLICY_RESOURCE = "default_policy.toml"


class ReasonCode(StrEnum):
    """Why a code has its colour. Values are stable: they key the message catalogue."""

    DIAGNOSIS_CONFIRMED = "diagnosis_confirmed"
    DIAGNOSIS_SUSPECTED = "diagnosis_suspected"
    CLOSE_CONTACT = "close_contact"
    TRAVEL_HIGH = "travel_high"
    TRAVEL_MEDIUM = "travel_medium"
    TEMPERATURE_HIGH = "temperature_high"  # params: temperature
    SYMPTOMS = "symptoms"  # params: symptoms (sorted values joined by ",")
    NORMAL = "normal"  # green, every answer fine
    RECOVERING = "recovering"  # params: cause, days_left
    NO_DECLARATION = "no_declaration"  # nothing declared yet: no code at all
    RECOVERED = "recovered"  # params: cause; green after a completed streak
    CHECKPOINT_READING = "checkpoint_reading"  # params: checkpoint, temperature; a reading at the threshold


REASON_CODES: frozenset[str] = frozenset(code.value for code in ReasonCode)

NORMAL = Reason(ReasonCode.NORMAL.value)
NO_DECLARATION = Reason(ReasonCode.NO_DECLARATION.value)

# Bounds that keep an edited policy sane; outside them the file is almost surely a typo.
TEMPERATURE_THRESHOLD_MIN = Decimal(35)
TEMPERATURE_THRESHOLD_MAX = Decimal(42)
RECOVERY_DAYS_MIN = 1
RECOVERY_DAYS_MAX = 365
_VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
_NAME_MAX = 200


class PolicyError(ValueError):
    """A policy document that cannot be used; names the file and the dotted field."""

    def __init__(self, source: str, field: str, reason: str) -> None:
        super().__init__(f"{source}: {field}: {reason}")
        self.source = source
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TierRule:
    """Which answers put a declaration in one colour tier; an empty rule matches nothing."""

    diagnoses: frozenset[Diagnosis] = frozenset()
    close_contact: bool = False
    travel: frozenset[TravelRisk] = frozenset()
    temperature_at_least: Decimal | None = None
    symptoms: frozenset[Symptom] = frozenset()

    def first_match(self, answers: Answers) -> Reason | None:
        """The reason this tier applies, checking the gravest kind of answer first."""
        if answers.diagnosis in self.diagnoses:
            return Reason(f"diagnosis_{answers.diagnosis.value}")
        if self.close_contact and answers.close_contact:
            return Reason(ReasonCode.CLOSE_CONTACT.value)
        if answers.travel in self.travel:
            return Reason(f"travel_{answers.travel.value}")
        if self.temperature_at_least is not None and answers.temperature >= self.temperature_at_least:
            return Reason(ReasonCode.TEMPERATURE_HIGH.value, (("temperature", str(answers.temperature)),))
        matched = answers.symptoms & self.symptoms
        if matched:
            return Reason.naming_symptoms(ReasonCode.SYMPTOMS.value, matched)
        return None


@dataclass(frozen=True, slots=True)
class Recovery:
    """Consecutive normal days needed before a code turns green again."""

    yellow_days: int
    red_days: int


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    name: str
    recovery: Recovery
    red: TierRule
    yellow: TierRule
    # [declaration] temperature_every_day: the one-tap declaration asks for today's reading (default: false,
    # yesterday's reading is repeated with the rest of yesterday's normal answers).
    temperature_every_day: bool = False

    def required_streak(self, colour: Colour) -> int:
        """Normal days in a row that turn ``colour`` green; 0 for green itself."""
        if colour is Colour.RED:
            return self.recovery.red_days
        if colour is Colour.YELLOW:
            return self.recovery.yellow_days
        return 0


def classify(policy: Policy, answers: Answers) -> tuple[Colour, Reason]:
    """The colour one declaration alone calls for, and the answer that caused it."""
    for colour, tier in ((Colour.RED, policy.red), (Colour.YELLOW, policy.yellow)):
        reason = tier.first_match(answers)
        if reason is not None:
            return colour, reason
    return Colour.GREEN, NORMAL


def parse_policy(text: str, source: str) -> Policy:
    """Build a Policy from TOML text; ``source`` names the file in error messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(source, "(document)", f"not valid TOML: {error}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise PolicyError(source, "(document)", "not valid TOML: nested too deeply") from None
    return _PolicyReader(source).policy(document)


# --- strict reading -------------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)

_TIER_KEYS = frozenset({"diagnoses", "close_contact", "travel", "temperature_at_least", "symptoms"})


class _PolicyReader:
    """Reads a parsed TOML document, raising PolicyError at the first thing it does not understand."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, reason: str) -> PolicyError:
        return PolicyError(self.source, field, reason)

    def policy(self, document: Mapping[str, Any]) -> Policy:
        self.check_keys(document, "", required={"version", "name", "recovery", "red", "yellow"},
                        optional={"declaration"})
        recovery = self.table(document, "recovery")
        declaration = self.table(document, "declaration") if "declaration" in document else {}
        self.check_keys(declaration, "declaration", required=set(), optional={"temperature_every_day"})
        self.check_keys(recovery, "recovery", required={"yellow_days", "red_days"}, optional=set())
        return Policy(
            version=self.version(document["version"]),
            name=self.name(document["name"]),
            recovery=Recovery(
                yellow_days=self.days(recovery["yellow_days"], "recovery.yellow_days"),
                red_days=self.days(recovery["red_days"], "recovery.red_days"),
            ),
            red=self.tier(self.table(document, "red"), "red"),
            yellow=self.tier(self.table(document, "yellow"), "yellow"),
            temperature_every_day=self.boolean(declaration, "declaration", "temperature_every_day"),
        )

    def check_keys(self, table: Mapping[str, Any], path: str, required: set[str], optional: set[str]) -> None:
        allowed = required | optional
        for key in table:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(_join(path, key), f"unknown key (expected one of: {expected})")
        for key in sorted(required):
            if key not in table:
                raise self.fail(_join(path, key), "required key is missing")

    def table(self, parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
        value = parent[key]
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}])")
        return value

    def version(self, value: Any) -> str:
        if not isinstance(value, str) or not _VERSION_PATTERN.fullmatch(value):
            raise self.fail("version", "must be a string of 1 to 64 letters, digits, '.', '_', '+' or '-'")
        return value

    def name(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > _NAME_MAX:
            raise self.fail("name", f"must be a non-empty string of at most {_NAME_MAX} characters")
        return value.strip()

    def days(self, value: Any, field: str) -> int:
        # bool is an int to Python, but ``true`` is no number of days.
        if isinstance(value, bool) or not isinstance(value, int) or not RECOVERY_DAYS_MIN <= value <= RECOVERY_DAYS_MAX:
            bounds = f"between {RECOVERY_DAYS_MIN} and {RECOVERY_DAYS_MAX}"
            raise self.fail(field, f"must be a whole number of days {bounds}")
        return value

    def tier(self, table: Mapping[str, Any], path: str) -> TierRule:
        self.check_keys(table, path, required=set(), optional=set(_TIER_KEYS))
        return TierRule(
            diagnoses=self.enum_list(table, path, "diagnoses", Diagnosis, exclude=Diagnosis.NONE),
            close_contact=self.boolean(table, path, "close_contact"),
            travel=self.enum_list(table, path, "travel", TravelRisk, exclude=TravelRisk.NONE),
            temperature_at_least=self.temperature(table, path),
            symptoms=self.symptoms(table, path),
        )

    def boolean(self, table: Mapping[str, Any], path: str, key: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(_join(path, key), "must be true or false")
        return value

    def temperature(self, table: Mapping[str, Any], path: str) -> Decimal | None:
        key = "temperature_at_least"
        if key not in table:
            return None
        value = table[key]
        reason = f"must be a number between {TEMPERATURE_THRESHOLD_MIN} and {TEMPERATURE_THRESHOLD_MAX}"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(_join(path, key), reason)
        # str() first: Decimal(37.3) would carry the float's binary error into comparisons.
        threshold = Decimal(str(value))
        if not TEMPERATURE_THRESHOLD_MIN <= threshold <= TEMPERATURE_THRESHOLD_MAX:
            raise self.fail(_join(path, key), reason)
        return threshold

    def symptoms(self, table: Mapping[str, Any], path: str) -> frozenset[Symptom]:
        value = table.get("symptoms", [])
        if value == "any":
            return frozenset(Symptom)
        if isinstance(value, str):
            raise self.fail(_join(path, "symptoms"), f'must be "any" or a list of: {_names(Symptom)}')
        return self.enum_list(table, path, "symptoms", Symptom)

    def enum_list(
        self, table: Mapping[str, Any], path: str, key: str, kind: type[_E], exclude: _E | None = None
    ) -> frozenset[_E]:
        field = _join(path, key)
        allowed = [member for member in kind if member is not exclude]
        value = table.get(key, [])
        if not isinstance(value, list):
            raise self.fail(field, f"must be a list of: {_names(allowed)}")
        by_value = {member.value: member for member in allowed}
        chosen: set[_E] = set()
        for index, item in enumerate(value):
            if not isinstance(item, str) or item not in by_value:
                expected = _names(allowed)
                raise self.fail(f"{field}[{index}]", f"unknown value {item!r} (expected one of: {expected})")
            chosen.add(by_value[item])
        return frozenset(chosen)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _names(members: Iterable[StrEnum]) -> str:
    return ", ".join(member.value for member in members)


__all__ = [
    "NORMAL",
    "NO_DECLARATION",
    "REASON_CODES",
    "Policy",
    "PolicyError",
    "ReasonCode",
    "Recovery",
    "TierRule",
    "classify",
    "parse_policy",
]
