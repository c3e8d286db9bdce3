"""Properties of the retention decision: deleting old declarations never changes anyone's code."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.evaluate import evaluate
from rules.model import Answers, Colour, Declaration, Diagnosis, Symptom, TravelRisk
from bot.policy_file import load_default_policy
from rules.retention import first_day_to_keep, keep_declarations_from, same_code

POLICY = load_default_policy()
BASE = date(2026, 1, 1)

normal = st.builds(Answers, temperature=st.decimals(min_value=Decimal("35.5"), max_value=Decimal("37.2"), places=1),
                   symptoms=st.just(frozenset()), close_contact=st.just(False), travel=st.just(TravelRisk.NONE),
                   diagnosis=st.just(Diagnosis.NONE))
anything = st.builds(Answers, temperature=st.decimals(min_value=Decimal("35.0"), max_value=Decimal("40.0"), places=1),
                     symptoms=st.frozensets(st.sampled_from(Symptom), max_size=2), close_contact=st.booleans(),
                     travel=st.sampled_from(TravelRisk), diagnosis=st.sampled_from(Diagnosis))


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Declaration], date, date]:
    """Up to 80 days of declarations (mostly normal, with gaps), a 'today' after them and a cutoff."""
    length = draw(st.integers(min_value=1, max_value=80))
    declarations = [Declaration(BASE + timedelta(days=n), draw(st.one_of(normal, normal, normal, anything)))
                    for n in range(length) if draw(st.integers(0, 9)) > 0]
    today = BASE + timedelta(days=length - 1 + draw(st.integers(0, 3)))
    cutoff = today - timedelta(days=draw(st.integers(min_value=1, max_value=60)))
    return declarations, today, cutoff


@settings(max_examples=300, deadline=None)
@given(histories())
def test_what_remains_after_trimming_gives_the_same_code(history: tuple[list[Declaration], date, date]) -> None:
    declarations, today, cutoff = history
    keep_from = first_day_to_keep(POLICY, declarations, today, cutoff)
    if keep_from is None:
        return  # kept whole this time: nothing can change
    assert keep_from <= cutoff
    before = evaluate(POLICY, declarations, today)
    after = evaluate(POLICY, [d for d in declarations if d.day >= keep_from], today)
    if before is not None and any(d.day >= keep_from for d in declarations):
        assert same_code(before, after)


@settings(max_examples=200, deadline=None)
@given(histories())
def test_a_non_green_code_keeps_the_day_it_got_its_colour(history: tuple[list[Declaration], date, date]) -> None:
    declarations, today, cutoff = history
    current = evaluate(POLICY, declarations, today)
    keep_from = keep_declarations_from(current, cutoff)
    if current is not None and current.colour is not Colour.GREEN:
        assert keep_from <= current.since
    else:
        assert keep_from == cutoff


def test_a_red_code_from_long_ago_keeps_its_history() -> None:
    red = Answers(Decimal("36.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.CONFIRMED)
    fine = Answers(Decimal("36.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
    declarations = [Declaration(BASE, red)] + [Declaration(BASE + timedelta(days=n), fine) for n in range(1, 10)]
    today = BASE + timedelta(days=9)
    assert first_day_to_keep(POLICY, declarations, today, cutoff=today - timedelta(days=3)) == BASE
