"""Same-day re-declarations may raise the risk but never lower it (issue 9, item 17)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.evaluate import declaration_risk, evaluate, lowers_risk
from rules.model import Answers, Colour, Declaration, Decision, Diagnosis, RiskArea, RiskAreaList, TravelRisk
from rules.policy import classify
from bot.policy_file import load_default_policy
from tests.rules.test_rules_evaluate_properties import any_answers, histories, policies

DEFAULT = load_default_policy()
TODAY = date(2020, 2, 20)
SETTINGS = settings(max_examples=200, deadline=None)
NORMAL = Answers(Decimal("36.6"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)


def on_today(answers: Answers) -> Declaration:
    return Declaration(TODAY, answers)


def test_a_confirmed_case_cannot_be_declared_away_the_same_day() -> None:
    confirmed = on_today(replace(NORMAL, diagnosis=Diagnosis.CONFIRMED))
    assert lowers_risk(DEFAULT, confirmed, on_today(NORMAL))
    assert lowers_risk(DEFAULT, confirmed, on_today(replace(NORMAL, diagnosis=Diagnosis.SUSPECTED)))  # red, lesser
    assert not lowers_risk(DEFAULT, on_today(NORMAL), confirmed)


def test_the_same_reason_with_other_values_is_the_same_risk() -> None:
    hot, warm = (on_today(replace(NORMAL, temperature=Decimal(t))) for t in ("38.5", "37.5"))
    assert not lowers_risk(DEFAULT, hot, warm) and not lowers_risk(DEFAULT, warm, hot)


def test_a_visited_area_is_judged_by_the_list_of_that_day() -> None:
    listed = RiskAreaList((RiskArea("330100", TravelRisk.HIGH, TODAY - timedelta(days=3)),))
    visited = on_today(replace(NORMAL, visited=frozenset({"330100"})))
    assert lowers_risk(DEFAULT, visited, on_today(NORMAL), listed)
    assert not lowers_risk(DEFAULT, visited, on_today(NORMAL))  # unlisted: just a normal day


def test_only_declarations_of_one_day_are_compared() -> None:
    with pytest.raises(ValueError, match="replacement.day"):
        lowers_risk(DEFAULT, on_today(NORMAL), Declaration(TODAY + timedelta(days=1), NORMAL))


@SETTINGS
@given(answers=any_answers)
def test_nothing_lowers_its_own_risk(answers: Answers) -> None:
    assert not lowers_risk(DEFAULT, on_today(answers), on_today(answers))


@SETTINGS
@given(first=any_answers, second=any_answers)
def test_risk_orders_by_colour_first(first: Answers, second: Answers) -> None:
    colour_a, colour_b = classify(DEFAULT, first)[0], classify(DEFAULT, second)[0]
    if colour_a.severity > colour_b.severity:
        assert lowers_risk(DEFAULT, on_today(first), on_today(second))
    # Exactly one of: lower, higher, the same risk.
    risk_a, risk_b = declaration_risk(DEFAULT, on_today(first)), declaration_risk(DEFAULT, on_today(second))
    assert [risk_a < risk_b, risk_a > risk_b, risk_a == risk_b].count(True) == 1
    assert lowers_risk(DEFAULT, on_today(first), on_today(second)) == (risk_b < risk_a)


@SETTINGS
@given(policy=policies(), history=histories(), first=any_answers, second=any_answers,
       forced=st.none() | st.sampled_from(Colour))
def test_an_accepted_redeclaration_never_lowers_the_code_of_the_day(
        policy, history: list[Declaration], first: Answers, second: Answers, forced: Colour | None) -> None:  # noqa: ANN001
    """Whatever came before, replacing today's answers by ones that do not lower the risk never
    gives a greener code today, and never a code green sooner."""
    if lowers_risk(policy, on_today(first), on_today(second)):
        first, second = second, first
    earlier = [d for d in history if d.day < TODAY]
    decisions = () if forced is None else (Decision.for_days(forced, TODAY - timedelta(days=1), 3, "decided"),)
    before = evaluate(policy, [*earlier, on_today(first)], TODAY, decisions=decisions)
    after = evaluate(policy, [*earlier, on_today(second)], TODAY, decisions=decisions)
    assert before is not None and after is not None
    assert after.colour.severity >= before.colour.severity
    # Sooner green only where a policy lets red recover faster than yellow (generated ones may).
    if before.green_on is not None and policy.recovery.red_days >= policy.recovery.yellow_days:
        assert after.green_on is not None and after.green_on >= before.green_on
