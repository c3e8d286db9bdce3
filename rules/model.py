"""Domain vocabulary shared by every layer: answers, declarations and statuses."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def worse_of(self, other: Colour) -> Colour:
        return self if self.severity >= other.severity else other


_SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}


class Symptom(StrEnum):
    FEVER = "fever"
    COUGH = "cough"
    SORE_THROAT = "sore_throat"
    FATIGUE = "fatigue"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    DIARRHOEA = "diarrhoea"
    LOSS_OF_TASTE_OR_SMELL = "loss_of_taste_or_smell"


class TravelRisk(StrEnum):
    NONE = "none"
    MEDIUM = "medium"
    HIGH = "high"


class Diagnosis(StrEnum):
    NONE = "none"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


class AnswersJson(TypedDict):
    """How one day's answers are stored (sealed) and exported: plain JSON values."""

    temperature: str  # a decimal string, never a float
    symptoms: list[str]  # sorted Symptom values
    close_contact: bool
    travel: str  # a TravelRisk value
    diagnosis: str  # a Diagnosis value
    visited: NotRequired[list[str]]  # sorted region codes; absent when none


@dataclass(frozen=True, slots=True)
class Answers:
    """One day's answers, exactly as the citizen gave them."""

    temperature: Decimal  # degrees Celsius, one decimal place
    symptoms: frozenset[Symptom]
    close_contact: bool
    travel: TravelRisk
    diagnosis: Diagnosis
    # Region codes of listed risk areas the citizen said they visited; judged by the list of the day.
    visited: frozenset[str] = frozenset()

    def to_json(self) -> AnswersJson:
        data: AnswersJson = {
            "temperature": str(self.temperature),
            "symptoms": sorted(s.value for s in self.symptoms),
            "close_contact": self.close_contact,
            "travel": self.travel.value,
            "diagnosis": self.diagnosis.value,
        }
        if self.visited:  # absent rather than empty, so older stored answers read back identically
            data["visited"] = sorted(self.visited)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answers:
        """Read answers stored by :meth:`to_json` (JSON of unknown shape, so every value is converted)."""
        return cls(
            temperature=Decimal(data["temperature"]),
            symptoms=frozenset(Symptom(s) for s in data["symptoms"]),
            close_contact=bool(data["close_contact"]),
            travel=TravelRisk(data["travel"]),
            diagnosis=Diagnosis(data["diagnosis"]),
            visited=frozenset(str(code) for code in data.get("visited", ())),
        )


@dataclass(frozen=True, slots=True)
class Declaration:
    """The answers a citizen gave for one local calendar day."""

    day: date
    answers: Answers


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a code has its colour, as a catalogue key plus the values that name the answer.

    ``code`` is stable and machine readable (it is rendered through the message
    catalogue); ``params`` holds plain strings for the rendering.
    """

    code: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def naming_symptoms(cls, code: str, symptoms: Iterable[Symptom]) -> Reason:
        """A reason that names symptoms. They travel as one plain-string param (values sorted, joined
        by ","), because params also order the verdicts and fingerprint the issued credential:
        read them back with :meth:`symptoms`, never by splitting the string elsewhere."""
        return cls(code, ((_SYMPTOMS_PARAM, ",".join(sorted(symptom.value for symptom in symptoms))),))

    def symptoms(self) -> tuple[Symptom, ...]:
        """The symptoms this reason names, in their stored order; none for a reason that names none."""
        listed = self.param_dict().get(_SYMPTOMS_PARAM, "")
        return tuple(Symptom(value) for value in listed.split(",") if value)

    def param_dict(self) -> dict[str, str]:
        return dict(self.params)


_SYMPTOMS_PARAM = "symptoms"


@dataclass(frozen=True, slots=True)
class Status:
    """The evaluated health code on a given day.

    ``green_on`` is the first day the code turns green if every declaration from
    now on is normal; ``None`` when the code is already green.
    """

    colour: Colour
    reason: Reason
    since: date
    green_on: date | None
    normal_streak: int = 0
    required_streak: int = 0
    declared_today: bool = False
    last_declared: date | None = None
    evaluated_for: date | None = field(default=None)
    # Set while a health-authority decision forces the colour: its last day.
    decision_until: date | None = None
    # Normal declarations still needed (today's included while it is still to be made) before the
    # declarations give green; None when the code is green. The one count every message shows.
    # Under a decision it is what the declarations underneath still need (0: none), and green_on
    # is when the code turns green: the later of that and the day after the decision.
    days_left: int | None = None
    # The policy that gave this status ("recorded with every evaluated code"); set by evaluate().
    policy_version: str | None = None
    policy_name: str | None = None


# --- checkpoint readings ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """A body temperature measured by checkpoint staff, on the local day it was taken.

    A declaration input like the citizen's own answers: at or above the policy's temperature threshold
    it counts for that day exactly as a self-declared fever would; below it, it counts for nothing
    (it neither declares the day nor extends a recovery streak)."""

    day: date
    temperature: Decimal  # degrees Celsius, one decimal place
    checkpoint: str  # the checkpoint's name, shown in the reason


class OrganisationKind(StrEnum):
    """What an organisation is: the levels the article collects data through (社区、企业、学校)."""

    ENTERPRISE = "enterprise"
    SCHOOL = "school"
    COMMUNITY = "community"


# --- health-authority decisions and risk areas ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """A health-authority decision that forces a colour from ``first_day`` to ``last_day`` inclusive.

    Declarations cannot know everything (a contact found by tracing, a cleared case), so an
    administrator records a decision. It stops applying by itself after ``last_day``. When several
    decisions cover a day the one decided last (highest ``sequence``) wins.
    """

    colour: Colour
    first_day: date
    last_day: date
    reason: str  # the authority's words, shown to the citizen on the card
    sequence: int = 0  # storage id: a later decision outranks an earlier one

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError("decision.last_day: must not be before first_day")
        if not self.reason.strip():
            raise ValueError("decision.reason: must not be empty")

    @classmethod
    def for_days(cls, colour: Colour, first_day: date, days: int, reason: str, sequence: int = 0) -> Decision:
        if days < 1:
            raise ValueError("decision.days: must be at least 1")
        return cls(colour, first_day, first_day + timedelta(days=days - 1), reason, sequence)

    def applies_on(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True, slots=True)
class RiskArea:
    """A GB/T 2260 region on the risk list from ``starts`` until the day before ``ends`` (None: open).

    A province-level code (``xx0000``) covers every city of that province; a city code covers itself.
    """

    code: str
    level: TravelRisk
    starts: date
    ends: date | None = None

    def __post_init__(self) -> None:
        if len(self.code) != 6 or not self.code.isdigit():
            raise ValueError("risk_area.code: must be a six-digit region code")
        if self.level is TravelRisk.NONE:
            raise ValueError("risk_area.level: must be medium or high")
        if self.ends is not None and self.ends <= self.starts:
            raise ValueError("risk_area.ends: must be after starts")

    def in_force_on(self, day: date) -> bool:
        return self.starts <= day and (self.ends is None or day < self.ends)

    def covers(self, code: str) -> bool:
        if code == self.code:
            return True
        if self.code.endswith("0000"):
            return code[:2] == self.code[:2]
        return False


@dataclass(frozen=True, slots=True)
class RiskAreaList:
    """Every risk-area entry ever published, so any past day can be judged by the list of that day."""

    areas: tuple[RiskArea, ...] = ()

    @classmethod
    def empty(cls) -> RiskAreaList:
        return _EMPTY_RISK_AREAS

    def in_force_on(self, day: date) -> tuple[RiskArea, ...]:
        return tuple(area for area in self.areas if area.in_force_on(day))

    def level_for(self, codes: frozenset[str], day: date) -> TravelRisk:
        """The highest level that any of ``codes`` had on ``day`` (NONE when none was listed)."""
        level = TravelRisk.NONE
        for area in self.areas:
            if area.in_force_on(day) and any(area.covers(code) for code in codes):
                if area.level is TravelRisk.HIGH:
                    return TravelRisk.HIGH
                level = TravelRisk.MEDIUM
        return level

    def listed_on(self, day: date) -> tuple[tuple[str, TravelRisk], ...]:
        """Every code listed on ``day`` once, at the highest level its entries give it that day:
        high-risk first, then by code. What a declaration offers to tick as visited."""
        levels: dict[str, TravelRisk] = {}
        for area in self.in_force_on(day):
            if levels.get(area.code) is not TravelRisk.HIGH:
                levels[area.code] = area.level
        return tuple(sorted(levels.items(), key=lambda item: (item[1] is not TravelRisk.HIGH, item[0])))


_EMPTY_RISK_AREAS = RiskAreaList()
