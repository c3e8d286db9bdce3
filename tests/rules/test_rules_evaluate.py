"""Worked examples of evaluate(): every rule on a concrete calendar."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from rules.evaluate import evaluate
from rules.model import Answers, Colour, Declaration, Diagnosis, Reason, Status, Symptom, TravelRisk
from bot.policy_file import load_default_policy

POLICY = load_default_policy()
D0 = date(2020, 2, 3)

NORMAL = Answers(Decimal("36.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
FEVERISH = Answers(Decimal("37.8"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
COUGHING = Answers(Decimal("36.6"), frozenset({Symptom.COUGH}), False, TravelRisk.NONE, Diagnosis.NONE)
CONTACT = Answers(Decimal("36.6"), frozenset(), True, TravelRisk.NONE, Diagnosis.NONE)
CONFIRMED = Answers(Decimal("36.6"), frozenset(), False, TravelRisk.NONE, Diagnosis.CONFIRMED)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def declared(*entries: tuple[int, Answers]) -> list[Declaration]:
    return [Declaration(day(n), given) for n, given in entries]


def normal_days(first: int, last: int) -> list[tuple[int, Answers]]:
    return [(n, NORMAL) for n in range(first, last + 1)]


def status_on(n: int, declarations: list[Declaration]) -> Status:
    status = evaluate(POLICY, declarations, day(n))
    assert status is not None
    return status


# --- no code yet ------------------------------------------------------------------------------


def test_no_declarations_gives_no_status() -> None:
    assert evaluate(POLICY, [], day(0)) is None


def test_only_future_declarations_give_no_status() -> None:
    assert evaluate(POLICY, declared((1, FEVERISH), (5, NORMAL)), day(0)) is None


def test_accepts_any_iterable_once() -> None:
    status = evaluate(POLICY, iter(declared((0, FEVERISH))), day(0))
    assert status is not None and status.colour is Colour.YELLOW


# --- green ------------------------------------------------------------------------------------


def test_first_normal_declaration_is_green() -> None:
    assert status_on(0, declared((0, NORMAL))) == Status(
        colour=Colour.GREEN,
        reason=Reason("normal"),
        since=day(0),
        green_on=None,
        normal_streak=0,
        required_streak=0,
        declared_today=True,
        last_declared=day(0),
        evaluated_for=day(0),
        policy_version="2020.2-hangzhou",  # the policy is recorded with every evaluation (issue 9 item 18)
        policy_name="Hangzhou-style health code, February 2020",
    )


def test_green_stays_green_across_missed_days() -> None:
    status = status_on(30, declared((0, NORMAL), (1, NORMAL)))
    assert status.colour is Colour.GREEN
    assert status.reason == Reason("normal")
    assert status.since == day(0)
    assert status.declared_today is False
    assert status.last_declared == day(1)
    assert status.evaluated_for == day(30)


# --- yellow, red and their reasons ------------------------------------------------------------


def test_a_fever_makes_the_code_yellow_that_day() -> None:
    status = status_on(0, declared((0, FEVERISH)))
    assert status.colour is Colour.YELLOW
    assert status.reason == Reason("temperature_high", (("temperature", "37.8"),))
    assert status.since == day(0)
    assert status.green_on == day(7)
    assert (status.normal_streak, status.required_streak) == (0, 7)


def test_yellow_after_a_green_period_is_dated_from_the_abnormal_day() -> None:
    status = status_on(4, declared((0, NORMAL), (1, NORMAL), (4, COUGHING)))
    assert status.colour is Colour.YELLOW
    assert status.since == day(4)
    assert status.reason == Reason("symptoms", (("symptoms", "cough"),))


def test_close_contact_makes_the_code_red_for_fourteen_days() -> None:
    status = status_on(0, declared((0, CONTACT)))
    assert status.colour is Colour.RED
    assert status.reason == Reason("close_contact")
    assert status.green_on == day(14)
    assert status.required_streak == 14


# --- recovery ---------------------------------------------------------------------------------


def test_yellow_day_six_of_the_streak_is_still_yellow_day_seven_is_green() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 7))
    on_day_6 = status_on(6, history)
    assert on_day_6.colour is Colour.YELLOW
    assert on_day_6.normal_streak == 6
    assert on_day_6.reason == Reason("recovering", (("cause", "temperature_high"), ("days_left", "1")))
    assert on_day_6.green_on == day(7)
    on_day_7 = status_on(7, history)
    assert on_day_7.colour is Colour.GREEN
    assert on_day_7.reason == Reason("recovered", (("cause", "temperature_high"),))
    assert on_day_7.since == day(7)
    assert on_day_7.green_on is None
    assert (on_day_7.normal_streak, on_day_7.required_streak) == (0, 0)


def test_red_day_thirteen_is_red_day_fourteen_is_green() -> None:
    history = declared((0, CONFIRMED), *normal_days(1, 14))
    on_day_13 = status_on(13, history)
    assert on_day_13.colour is Colour.RED
    assert on_day_13.reason == Reason("recovering", (("cause", "diagnosis_confirmed"), ("days_left", "1")))
    assert status_on(14, history).colour is Colour.GREEN
    assert status_on(14, history).reason == Reason("recovered", (("cause", "diagnosis_confirmed"),))


def test_one_normal_day_does_not_lower_the_colour() -> None:
    status = status_on(1, declared((0, FEVERISH), (1, NORMAL)))
    assert status.colour is Colour.YELLOW
    assert status.since == day(0)
    assert status.normal_streak == 1
    assert status.reason == Reason("recovering", (("cause", "temperature_high"), ("days_left", "6")))


def test_recovered_green_stays_recovered_through_later_days() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 7), (9, NORMAL))
    status = status_on(20, history)
    assert status.colour is Colour.GREEN
    assert status.reason.code == "recovered"
    assert status.since == day(7)


def test_a_new_abnormal_day_after_recovery_starts_over() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 7), (8, CONTACT))
    status = status_on(8, history)
    assert (status.colour, status.since, status.green_on) == (Colour.RED, day(8), day(22))


# --- missed days ------------------------------------------------------------------------------


def test_a_missed_day_restarts_the_streak() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 3), *normal_days(5, 11))
    assert status_on(4, history).normal_streak == 3  # day 4 is today and not yet declared
    assert status_on(5, history).normal_streak == 1  # day 4 was missed
    assert status_on(10, history).colour is Colour.YELLOW
    assert status_on(11, history).colour is Colour.GREEN


def test_today_not_yet_declared_is_not_a_missed_day() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 3))
    status = status_on(4, history)
    assert status.declared_today is False
    assert status.normal_streak == 3
    assert status.reason == Reason("recovering", (("cause", "temperature_high"), ("days_left", "4")))
    # Days 4, 5, 6 and 7 still to declare: the 7th normal day is day 7.
    assert status.green_on == day(7)


def test_missing_yesterday_resets_even_if_today_is_not_declared() -> None:
    status = status_on(5, declared((0, FEVERISH), *normal_days(1, 3)))
    assert status.normal_streak == 0
    assert status.reason == Reason("temperature_high", (("temperature", "37.8"),))
    assert status.green_on == day(11)  # days 5..11 are seven days


def test_abnormal_code_without_any_further_declaration_never_recovers() -> None:
    status = status_on(60, declared((0, FEVERISH)))
    assert status.colour is Colour.YELLOW
    assert status.green_on == day(66)


# --- escalation -------------------------------------------------------------------------------


def test_yellow_escalates_to_red_and_needs_the_red_streak() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 5), (6, CONTACT))
    status = status_on(6, history)
    assert status.colour is Colour.RED
    assert status.since == day(6)
    assert status.reason == Reason("close_contact")
    assert (status.normal_streak, status.required_streak) == (0, 14)
    assert status.green_on == day(20)


def test_a_yellow_answer_while_red_keeps_red_and_resets_the_streak() -> None:
    history = declared((0, CONTACT), *normal_days(1, 10), (11, FEVERISH))
    status = status_on(11, history)
    assert status.colour is Colour.RED
    assert status.since == day(0)
    assert status.reason == Reason("close_contact")
    assert status.normal_streak == 0
    assert status.green_on == day(25)


def test_the_latest_abnormal_answer_of_the_current_colour_is_the_reason() -> None:
    history = declared((0, FEVERISH), (1, COUGHING))
    status = status_on(1, history)
    assert status.since == day(0)
    assert status.reason == Reason("symptoms", (("symptoms", "cough"),))


# --- input handling ---------------------------------------------------------------------------


def test_declarations_after_today_are_ignored() -> None:
    history = declared((0, NORMAL), (1, CONFIRMED))
    status = status_on(0, history)
    assert status.colour is Colour.GREEN
    assert status.last_declared == day(0)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_declarations_on_one_day_count_the_gravest(order: tuple[int, int]) -> None:
    same_day = [Declaration(day(0), FEVERISH), Declaration(day(0), CONFIRMED)]
    status = status_on(0, [same_day[i] for i in order])
    assert status.colour is Colour.RED
    assert status.reason == Reason("diagnosis_confirmed")


def test_same_day_yellow_answers_pick_a_stable_reason_whatever_the_order() -> None:
    a = Declaration(day(0), FEVERISH)
    b = Declaration(day(0), Answers(Decimal("38.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE))
    c = Declaration(day(0), COUGHING)
    assert status_on(0, [a, b, c]) == status_on(0, [c, b, a]) == status_on(0, [b, c, a])


def test_unsorted_input_gives_the_same_status() -> None:
    history = declared((0, FEVERISH), *normal_days(1, 6))
    assert status_on(6, history) == status_on(6, list(reversed(history)))
