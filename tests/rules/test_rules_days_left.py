"""One count of the days left, in the evaluated status (issue 9, item 20).

The card shows green_on, reminders and notices show days_left; both come from one evaluation and
must agree, with or without a health-authority decision.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.evaluate import evaluate
from rules.model import Answers, Colour, Decision, Declaration, Diagnosis, TravelRisk
from bot.policy_file import load_default_policy
from tests.rules.test_rules_evaluate_properties import histories, policies

DEFAULT = load_default_policy()
BASE = date(2020, 1, 20)
SETTINGS = settings(max_examples=200, deadline=None)
NORMAL = Answers(Decimal("36.6"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
FEVER = Answers(Decimal("38.2"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def normal_days(first: date, last: date) -> list[Declaration]:
    return [Declaration(first + timedelta(days=n), NORMAL) for n in range((last - first).days + 1)]


def test_the_multi_week_case_a_red_decision_over_a_recovering_yellow() -> None:
    """examples/multi-week.txt: fever on 03-02, normal 03-03 and 03-04, red decided 03-04..03-05.
    On 03-05 the card says green on 03-09, so 5 normal declarations (03-05..03-09) remain, not 12."""
    declarations = [Declaration(date(2026, 3, 2), FEVER), *normal_days(date(2026, 3, 3), date(2026, 3, 4))]
    decision = Decision.for_days(Colour.RED, date(2026, 3, 4), 2, "contact traced by the CDC")
    status = evaluate(DEFAULT, declarations, date(2026, 3, 5), decisions=[decision])
    assert status is not None and status.colour is Colour.RED
    assert status.green_on == date(2026, 3, 9) and status.days_left == 5


def test_a_decision_over_a_green_code_needs_no_declaration() -> None:
    decision = Decision.for_days(Colour.RED, day(1), 3, "traced")
    status = evaluate(DEFAULT, [Declaration(day(0), NORMAL)], day(2), decisions=[decision])
    assert status is not None and status.days_left == 0 and status.green_on == day(4)


@SETTINGS
@given(policy=policies(), history=histories(max_day=30), today=st.integers(0, 32))
def test_days_left_declarations_make_the_code_green_on_green_on(policy, history, today: int) -> None:  # noqa: ANN001
    """Without a decision: days_left normal declarations from today (or tomorrow, if today is
    declared) turn the code green exactly on green_on, and not a day before."""
    status = evaluate(policy, history, day(today))
    if status is None or status.colour is Colour.GREEN:
        assert status is None or (status.days_left is None and status.green_on is None)
        return
    first = day(today + 1) if status.declared_today else day(today)
    assert status.days_left is not None and status.days_left >= 1
    assert status.green_on == first + timedelta(days=status.days_left - 1)
    future = [d for d in history if d.day < first] + normal_days(first, status.green_on)
    assert evaluate(policy, future, status.green_on).colour is Colour.GREEN
    before = status.green_on - timedelta(days=1)
    if before >= day(today):
        assert evaluate(policy, future, before).colour is not Colour.GREEN


@SETTINGS
@given(policy=policies(), history=histories(max_day=30), today=st.integers(0, 32),
       start=st.integers(-5, 0), extra=st.integers(1, 20), colour=st.sampled_from([Colour.YELLOW, Colour.RED]))
def test_under_a_decision_the_count_is_that_of_the_declarations_underneath(
        policy, history, today: int, start: int, extra: int, colour: Colour) -> None:  # noqa: ANN001
    decision = Decision.for_days(colour, day(today + start), extra - start, "decided")  # covers today
    status = evaluate(policy, history, day(today), decisions=[decision])
    underneath = evaluate(policy, history, day(today))
    assert status is not None and status.colour is colour
    expected = underneath.days_left if underneath is not None and underneath.days_left is not None else 0
    assert status.days_left == expected
    lifted = decision.last_day + timedelta(days=1)
    assert status.green_on == max(lifted, underneath.green_on if underneath and underneath.green_on else lifted)
    # Normal declarations until green_on give green on green_on, once the decision has ended.
    first = day(today + 1) if status.declared_today else day(today)
    future = [d for d in history if d.day < first] + normal_days(first, status.green_on)
    assert evaluate(policy, future, status.green_on, decisions=[decision]).colour is Colour.GREEN
