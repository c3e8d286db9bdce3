"""Domain vocabulary shared by every layer: answers, declarations and statuses."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


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


@dataclass(frozen=True, slots=True)
class Answers:
    """One day's answers, exactly as the citizen gave them."""

    temperature: Decimal  # degrees Celsius, one decimal place
    symptoms: frozenset[Symptom]
    close_contact: bool
    travel: TravelRisk
    diagnosis: Diagnosis

    def to_json(self) -> dict:
        return {
            "temperature": str(self.temperature),
            "symptoms": sorted(s.value for s in self.symptoms),
            "close_contact": self.close_contact,
            "travel": self.travel.value,
            "diagnosis": self.diagnosis.value,
        }

    @classmethod
    def from_json(cls, data: dict) -> Answers:
        return cls(
            temperature=Decimal(data["temperature"]),
            symptoms=frozenset(Symptom(s) for s in data["symptoms"]),
            close_contact=bool(data["close_contact"]),
            travel=TravelRisk(data["travel"]),
            diagnosis=Diagnosis(data["diagnosis"]),
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

    def param_dict(self) -> dict[str, str]:
        return dict(self.params)


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
