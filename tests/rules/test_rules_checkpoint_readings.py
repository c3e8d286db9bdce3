"""Checkpoint readings in the recovery count (hypothesis): a fever reading counts exactly as a
self-declared fever on its day; a normal reading changes nothing."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rules.evaluate import colours_by_day, evaluate, reading_is_abnormal
from rules.model import Answers, Colour, Declaration, Diagnosis, Reading, Status, TravelRisk
from rules.policy import Policy
from tests.rules.test_rules_evaluate_properties import DEFAULT, SETTINGS, day, histories, policies

fevers = st.decimals(min_value=Decimal("37.3"), max_value=Decimal("43.0"), places=1)
normal_temperatures = st.decimals(min_value=Decimal("34.0"), max_value=Decimal("37.2"), places=1)
CHECKPOINT = "West Gate"


def _declared_fever(on: date, temperature: Decimal) -> Declaration:
    return Declaration(on, Answers(temperature, frozenset(), False, TravelRisk.NONE, Diagnosis.NONE))


def _recovery_view(status: Status | None) -> tuple[object, ...] | None:
    """Everything about the code except which answer the reason names and whether the day was declared."""
    if status is None:
        return None
    return (status.colour, status.since, status.green_on, status.normal_streak, status.required_streak,
            status.days_left, status.reason.code in ("recovering", "recovered"))


@SETTINGS
@given(policies(), histories(), st.integers(0, 40), st.integers(0, 45), fevers)
def test_a_fever_reading_restarts_the_count_exactly_as_a_declared_fever(
    policy: Policy, declarations: list[Declaration], reading_day: int, today_n: int, temperature: Decimal
) -> None:
    today = day(today_n)
    reading = Reading(day(reading_day), temperature, CHECKPOINT)
    measured = evaluate(policy, declarations, today, readings=[reading])
    declared = evaluate(policy, [*declarations, _declared_fever(reading.day, temperature)], today)
    assert _recovery_view(measured) == _recovery_view(declared)
    first, last = day(0), day(45)
    assert colours_by_day(policy, declarations, first, last, readings=[reading]) == colours_by_day(
        policy, [*declarations, _declared_fever(reading.day, temperature)], first, last)


@SETTINGS
@given(policies(), histories(), st.lists(st.tuples(st.integers(0, 45), normal_temperatures), max_size=5),
       st.integers(0, 45))
def test_a_normal_reading_changes_nothing(
    policy: Policy, declarations: list[Declaration], taken: list[tuple[int, Decimal]], today_n: int
) -> None:
    readings = [Reading(day(n), temperature, CHECKPOINT) for n, temperature in taken]
    assert not any(reading_is_abnormal(policy, reading) for reading in readings)
    today = day(today_n)
    assert evaluate(policy, declarations, today, readings=readings) == evaluate(policy, declarations, today)


@SETTINGS
@given(fevers, st.integers(1, 10))
def test_a_fever_reading_on_a_green_code_turns_it_yellow_naming_the_checkpoint(temperature: Decimal,
                                                                                days: int) -> None:
    declarations = [Declaration(day(n), replace(_declared_fever(day(n), Decimal("36.5")).answers))
                    for n in range(days)]
    today = day(days - 1)
    status = evaluate(DEFAULT, declarations, today, readings=[Reading(today, temperature, CHECKPOINT)])
    assert status is not None and status.colour is Colour.YELLOW and status.since == today
    assert status.reason.code == "checkpoint_reading"
    assert status.reason.param_dict() == {"checkpoint": CHECKPOINT, "temperature": str(temperature)}
    assert status.declared_today and status.days_left == DEFAULT.recovery.yellow_days
    assert status.green_on == day(days - 1 + DEFAULT.recovery.yellow_days)


def test_a_reading_alone_gives_a_code_without_declaring_the_day() -> None:
    status = evaluate(DEFAULT, [], day(3), readings=[Reading(day(3), Decimal("38.0"), CHECKPOINT)])
    assert status is not None and status.colour is Colour.YELLOW
    assert not status.declared_today and status.last_declared is None
    assert evaluate(DEFAULT, [], day(3), readings=[Reading(day(3), Decimal("37.2"), CHECKPOINT)]) is None
    # The threshold is the policy's own: 37.3 counts, 37.2 does not.
    assert reading_is_abnormal(DEFAULT, Reading(day(0), Decimal("37.3"), CHECKPOINT))


def test_a_reading_after_today_is_not_counted() -> None:
    history = [_declared_fever(day(0), Decimal("36.5"))]
    assert evaluate(DEFAULT, history, day(0), readings=[Reading(day(1), Decimal("39.0"), CHECKPOINT)]) == evaluate(
        DEFAULT, history, day(0))
