"""Corrected declarations, deadlines, escalation levels and case states (rules.corrections), with hypothesis."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from bot.regions import region_table
from rules.authority import Authority, Role
from rules.corrections import (
    CaseState, Overdue, WrongAnswer, corrected_answers, first_level, may_move, next_level, overdue,
)
from rules.evaluate import declaration_risk, evaluate
from rules.model import Colour, Declaration
from rules.policy import classify
from tests.rules.test_rules_evaluate_properties import (
    DEFAULT, SETTINGS, abnormal_answers, any_answers, day, histories, normal_answers, policies,
)

wrong_answers = st.sampled_from(WrongAnswer)


@SETTINGS
@given(any_answers, wrong_answers)
def test_a_correction_never_raises_the_days_risk_and_changes_only_the_answer_named(answers, wrong) -> None:
    corrected = corrected_answers(answers, wrong, DEFAULT)
    before, after = Declaration(day(0), answers), Declaration(day(0), corrected)
    assert declaration_risk(DEFAULT, after) <= declaration_risk(DEFAULT, before)
    if wrong is not WrongAnswer.ALL:
        unchanged = {"diagnosis", "close_contact", "travel", "symptoms", "temperature"} - {
            {"contact": "close_contact"}.get(wrong.value, wrong.value)}
        for name in unchanged:
            assert getattr(corrected, name) == getattr(answers, name), name


@SETTINGS
@given(any_answers)
def test_correcting_the_whole_day_makes_it_a_normal_day(answers) -> None:
    assert classify(DEFAULT, corrected_answers(answers, WrongAnswer.ALL, DEFAULT))[0] is Colour.GREEN


@SETTINGS
@given(histories(), abnormal_answers, normal_answers, st.integers(0, 40), policies())
def test_a_corrected_day_counts_in_the_recovery_like_a_normal_one(history, wrong_day, normal, n, policy) -> None:
    """The disputed day corrected to normal gives exactly the code a normal declaration there would: the
    streak runs through it, and the code is never worse than before the correction."""
    others = [d for d in history if d.day != day(n)]
    disputed = [*others, Declaration(day(n), wrong_day)]
    corrected = [*others, Declaration(day(n), corrected_answers(wrong_day, WrongAnswer.ALL, policy))]
    declared_normal = [*others, Declaration(day(n), normal)]
    today = day(45)
    after, as_normal, before = (evaluate(policy, h, today) for h in (corrected, declared_normal, disputed))
    assert after is not None and as_normal is not None and before is not None
    assert (after.colour, after.normal_streak, after.green_on, after.days_left) == (
        as_normal.colour, as_normal.normal_streak, as_normal.green_on, as_normal.days_left)
    assert after.colour.severity <= before.colour.severity
    # Never later green either, under a policy where red takes at least as long as yellow (as every real one:
    # a generated policy may let red recover sooner, and then a lower colour can take longer).
    if before.colour is not Colour.GREEN and after.colour is not Colour.GREEN and (
            policy.recovery.red_days >= policy.recovery.yellow_days):
        assert after.green_on <= before.green_on


START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@given(st.integers(1, 24 * 30), st.integers(0, 24 * 120 * 60))
def test_a_request_is_reminded_after_the_deadline_and_escalated_after_twice_it(sla_hours, waited_minutes) -> None:
    sla = timedelta(hours=sla_hours)
    late = overdue(START, START + timedelta(minutes=waited_minutes), sla)
    waited = timedelta(minutes=waited_minutes)
    expected = Overdue.ESCALATE if waited >= 2 * sla else Overdue.REMIND if waited >= sla else Overdue.ON_TIME
    assert late is expected


SCOPES = ["330106", "330102", "330100", "330000"]


@given(st.lists(st.tuples(st.integers(1, 50), st.sampled_from(SCOPES)), min_size=1, max_size=8))
def test_the_next_level_strictly_contains_the_first(pairs) -> None:
    table = region_table()
    holders = [Authority(telegram_id, frozenset({Role.REVIEWER}), scope) for telegram_id, scope in pairs]
    holders.sort(key=lambda a: -len(table.path(a.scope)))  # nearest first, as roles.holders_covering gives
    first, above = first_level(holders), next_level(holders, table)
    assert first and all(a.scope == holders[0].scope for a in first)
    for holder in above:
        assert holder.scope != holders[0].scope and table.lies_within(holders[0].scope, holder.scope)
    if above:  # the nearest containing level, all of it
        assert len({a.scope for a in above}) == 1
        deeper = [a for a in holders if a.scope not in (holders[0].scope, above[0].scope)
                  and table.lies_within(holders[0].scope, a.scope) and table.lies_within(a.scope, above[0].scope)]
        assert not deeper


def test_county_then_city_then_province() -> None:
    table = region_table()
    county, city, province = (Authority(n, frozenset({Role.REVIEWER}), scope)
                              for n, scope in ((1, "330106"), (2, "330100"), (3, "330000")))
    assert next_level([county, city, province], table) == [city]
    assert next_level([city, province], table) == [province]
    assert next_level([province], table) == []


@given(st.sampled_from(CaseState), st.sampled_from(CaseState))
def test_a_closed_case_is_never_reopened(current, wanted) -> None:
    if current is CaseState.CLOSED or wanted is CaseState.OPEN:
        assert not may_move(current, wanted)
