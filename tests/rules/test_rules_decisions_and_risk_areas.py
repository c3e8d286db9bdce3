"""Health-authority decisions and risk areas in evaluate(): examples and hypothesis properties."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.evaluate import DECISION_REASON, colours_by_day, decision_on, evaluate
from rules.model import (
    Answers,
    Colour,
    Decision,
    Declaration,
    Diagnosis,
    Reason,
    RiskArea,
    RiskAreaList,
    Symptom,
    TravelRisk,
)
from bot.policy_file import load_default_policy

POLICY = load_default_policy()
BASE = date(2026, 3, 2)
SETTINGS = settings(max_examples=150, deadline=None)
WUHAN, HUBEI, HANGZHOU = "420100", "420000", "330100"


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def answers(*, temperature: str = "36.5", visited: tuple[str, ...] = (), travel: TravelRisk = TravelRisk.NONE,
            contact: bool = False) -> Answers:
    return Answers(Decimal(temperature), frozenset(), contact, travel, Diagnosis.NONE, frozenset(visited))


def normal_days(first: int, last: int) -> list[Declaration]:
    return [Declaration(day(n), answers()) for n in range(first, last + 1)]


# --- decisions ---------------------------------------------------------------------------------


def test_a_decision_forces_its_colour_and_carries_the_reason() -> None:
    decision = Decision.for_days(Colour.RED, day(0), 14, "contact traced by the CDC")
    status = evaluate(POLICY, normal_days(0, 3), day(3), decisions=[decision])
    assert status is not None
    assert status.colour is Colour.RED
    assert status.reason == Reason(DECISION_REASON, (("reason", "contact traced by the CDC"), ("until", "2026-03-15")))
    assert status.decision_until == day(13)
    assert status.since == day(0)
    assert status.green_on == day(14)
    assert status.declared_today and status.last_declared == day(3)


def test_a_decision_expires_by_itself_on_the_day_after_its_last_day() -> None:
    decision = Decision.for_days(Colour.RED, day(0), 3, "tracing")
    history = normal_days(0, 5)
    assert evaluate(POLICY, history, day(2), decisions=[decision]).colour is Colour.RED
    lifted = evaluate(POLICY, history, day(3), decisions=[decision])
    assert lifted == evaluate(POLICY, history, day(3))
    assert lifted.colour is Colour.GREEN and lifted.decision_until is None


def test_a_decision_without_any_declaration_still_gives_a_code() -> None:
    decision = Decision.for_days(Colour.YELLOW, day(1), 2, "quarantine")
    assert evaluate(POLICY, [], day(0), decisions=[decision]) is None
    status = evaluate(POLICY, [], day(1), decisions=[decision])
    assert status.colour is Colour.YELLOW and not status.declared_today and status.last_declared is None
    assert evaluate(POLICY, [], day(3), decisions=[decision]) is None


def test_a_green_decision_clears_a_red_code_for_its_days_only() -> None:
    history = [Declaration(day(0), answers(contact=True)), *normal_days(1, 3)]
    decision = Decision.for_days(Colour.GREEN, day(2), 1, "test negative, cleared")
    cleared = evaluate(POLICY, history, day(2), decisions=[decision])
    assert cleared.colour is Colour.GREEN and cleared.green_on is None
    assert evaluate(POLICY, history, day(3), decisions=[decision]).colour is Colour.RED


def test_the_latest_decision_wins_when_two_cover_a_day() -> None:
    first = Decision.for_days(Colour.RED, day(0), 10, "first", sequence=1)
    second = Decision.for_days(Colour.YELLOW, day(2), 2, "second", sequence=2)
    assert decision_on([second, first], day(2)) is second
    assert decision_on([second, first], day(4)) is first
    assert evaluate(POLICY, [], day(3), decisions=[first, second]).colour is Colour.YELLOW


def test_green_on_after_a_decision_is_the_later_of_its_end_and_the_recovery() -> None:
    history = [Declaration(day(0), answers(contact=True))]  # red, 14 normal days needed
    decision = Decision.for_days(Colour.RED, day(0), 2, "tracing")
    status = evaluate(POLICY, history, day(0), decisions=[decision])
    assert status.green_on == evaluate(POLICY, history, day(0)).green_on == day(14)
    longer = Decision.for_days(Colour.RED, day(0), 30, "tracing")
    assert evaluate(POLICY, history, day(0), decisions=[longer]).green_on == day(30)


@pytest.mark.parametrize(("days", "reason"), [(0, "x"), (-1, "x"), (3, "  ")])
def test_bad_decisions_are_refused_with_the_field_named(days: int, reason: str) -> None:
    with pytest.raises(ValueError, match=r"decision\.(days|reason)"):
        Decision.for_days(Colour.RED, day(0), days, reason)


# --- risk areas --------------------------------------------------------------------------------


def test_a_declaration_is_judged_by_the_list_in_force_on_its_own_day() -> None:
    areas = RiskAreaList((RiskArea(WUHAN, TravelRisk.HIGH, starts=day(1)),))
    before = [Declaration(day(0), answers(visited=(WUHAN,)))]
    on = [Declaration(day(1), answers(visited=(WUHAN,)))]
    assert evaluate(POLICY, before, day(1), risk_areas=areas).colour is Colour.GREEN
    status = evaluate(POLICY, on, day(1), risk_areas=areas)
    assert status.colour is Colour.RED and status.reason == Reason("travel_high")


def test_lifting_an_area_does_not_rewrite_earlier_days() -> None:
    areas = RiskAreaList((RiskArea(WUHAN, TravelRisk.MEDIUM, starts=day(0), ends=day(2)),))
    history = [Declaration(day(1), answers(visited=(WUHAN,))), Declaration(day(2), answers(visited=(WUHAN,)))]
    status = evaluate(POLICY, history, day(2), risk_areas=areas)
    assert status.colour is Colour.YELLOW and status.since == day(1)
    assert evaluate(POLICY, history[1:], day(2), risk_areas=areas).colour is Colour.GREEN


def test_a_province_entry_covers_its_cities_but_a_city_entry_not_its_province() -> None:
    province = RiskArea(HUBEI, TravelRisk.HIGH, starts=day(0))
    city = RiskArea(WUHAN, TravelRisk.MEDIUM, starts=day(0))
    assert province.covers(WUHAN) and province.covers(HUBEI) and not province.covers(HANGZHOU)
    assert city.covers(WUHAN) and not city.covers(HUBEI) and not city.covers("420200")
    listing = RiskAreaList((province, city))
    assert listing.level_for(frozenset({WUHAN}), day(0)) is TravelRisk.HIGH
    assert listing.level_for(frozenset({HANGZHOU}), day(0)) is TravelRisk.NONE


def test_the_worse_of_the_own_answer_and_the_listed_level_counts() -> None:
    areas = RiskAreaList((RiskArea(WUHAN, TravelRisk.MEDIUM, starts=day(0)),))
    declared_high = [Declaration(day(0), answers(visited=(WUHAN,), travel=TravelRisk.HIGH))]
    assert evaluate(POLICY, declared_high, day(0), risk_areas=areas).colour is Colour.RED


def test_in_force_on_respects_start_and_exclusive_end() -> None:
    area = RiskArea(WUHAN, TravelRisk.HIGH, starts=day(1), ends=day(3))
    assert [area.in_force_on(day(n)) for n in range(5)] == [False, True, True, False, False]
    assert RiskAreaList((area,)).in_force_on(day(2)) == (area,)
    assert RiskAreaList.empty().in_force_on(day(2)) == ()


@pytest.mark.parametrize(
    ("code", "level", "ends", "field"),
    [("4201", TravelRisk.HIGH, None, "code"), (WUHAN, TravelRisk.NONE, None, "level"), (WUHAN, TravelRisk.HIGH, 0, "ends")],
)
def test_bad_risk_areas_are_refused(code: str, level: TravelRisk, ends: int | None, field: str) -> None:
    with pytest.raises(ValueError, match=f"risk_area.{field}"):
        RiskArea(code, level, starts=day(0), ends=None if ends is None else day(ends))


def test_visited_areas_survive_the_json_round_trip_and_old_json_still_reads() -> None:
    visited = answers(visited=(WUHAN, HUBEI))
    assert Answers.from_json(visited.to_json()) == visited
    plain = answers()
    assert "visited" not in plain.to_json()
    assert Answers.from_json(plain.to_json()) == plain


# --- properties --------------------------------------------------------------------------------

codes = st.sampled_from([WUHAN, HUBEI, HANGZHOU, "110100"])
any_answers = st.builds(
    Answers,
    temperature=st.decimals(min_value=Decimal("35.5"), max_value=Decimal("39.0"), places=1),
    symptoms=st.frozensets(st.sampled_from(Symptom), max_size=1),
    close_contact=st.booleans(),
    travel=st.sampled_from(TravelRisk),
    diagnosis=st.just(Diagnosis.NONE),
    visited=st.frozensets(codes, max_size=2),
)
mostly_normal = st.one_of(st.builds(answers), st.builds(answers), any_answers)


@st.composite
def histories(draw: st.DrawFn, max_day: int = 30) -> list[Declaration]:
    by_day = draw(st.dictionaries(st.integers(0, max_day), mostly_normal, max_size=max_day + 1))
    return [Declaration(day(n), a) for n, a in by_day.items()]


@st.composite
def risk_lists(draw: st.DrawFn) -> RiskAreaList:
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        starts = draw(st.integers(0, 30))
        length = draw(st.one_of(st.none(), st.integers(1, 15)))
        entries.append(RiskArea(draw(codes), draw(st.sampled_from([TravelRisk.MEDIUM, TravelRisk.HIGH])), day(starts),
                                None if length is None else day(starts + length)))
    return RiskAreaList(tuple(entries))


@st.composite
def decision_lists(draw: st.DrawFn) -> list[Decision]:
    return [
        Decision.for_days(draw(st.sampled_from(Colour)), day(draw(st.integers(0, 30))), draw(st.integers(1, 10)),
                          "decided", sequence=n)
        for n in range(draw(st.integers(0, 3)))
    ]


@SETTINGS
@given(histories(), decision_lists(), risk_lists(), st.integers(0, 35))
def test_the_history_agrees_with_evaluate_on_every_day(history, decisions, areas, last: int) -> None:
    colours = colours_by_day(POLICY, history, day(0), day(last), decisions=decisions, risk_areas=areas)
    for n in range(last + 1):
        status = evaluate(POLICY, history, day(n), decisions=decisions, risk_areas=areas)
        assert colours[day(n)] == (None if status is None else status.colour), n


@SETTINGS
@given(histories(), decision_lists(), risk_lists(), st.integers(0, 40))
def test_outside_every_decision_the_code_is_what_the_declarations_give(history, decisions, areas, n: int) -> None:
    with_decisions = evaluate(POLICY, history, day(n), decisions=decisions, risk_areas=areas)
    if decision_on(decisions, day(n)) is None:
        assert with_decisions == evaluate(POLICY, history, day(n), risk_areas=areas)
    else:
        assert with_decisions.colour is decision_on(decisions, day(n)).colour
        assert with_decisions.reason.code == DECISION_REASON


@SETTINGS
@given(histories(), risk_lists(), st.integers(0, 35))
def test_areas_never_in_force_on_a_declared_day_change_nothing(history, areas, n: int) -> None:
    def unlisted(declaration: Declaration) -> Declaration:
        listed = {code for code in declaration.answers.visited
                  if any(a.in_force_on(declaration.day) and a.covers(code) for a in areas.areas)}
        return Declaration(declaration.day, Answers(
            declaration.answers.temperature, declaration.answers.symptoms, declaration.answers.close_contact,
            declaration.answers.travel, declaration.answers.diagnosis, frozenset(listed)))

    assert evaluate(POLICY, history, day(n), risk_areas=areas) == evaluate(
        POLICY, [unlisted(d) for d in history], day(n), risk_areas=areas)
    assert evaluate(POLICY, history, day(n)) == evaluate(POLICY, history, day(n), risk_areas=RiskAreaList.empty())


@SETTINGS
@given(histories(), risk_lists(), risk_lists(), st.integers(0, 35))
def test_more_listed_areas_never_make_a_day_better(history, areas, extra, last: int) -> None:
    wider = RiskAreaList(areas.areas + extra.areas)
    narrow = colours_by_day(POLICY, history, day(0), day(last), risk_areas=areas)
    broad = colours_by_day(POLICY, history, day(0), day(last), risk_areas=wider)
    # Per day the colour can only get worse, except that recovery timing may shift: compare the
    # worst colour reached so far, which is monotone in the abnormal days.
    worst_narrow = worst_broad = 0
    for n in range(last + 1):
        if narrow[day(n)] is not None:
            worst_narrow = max(worst_narrow, narrow[day(n)].severity)
        if broad[day(n)] is not None:
            worst_broad = max(worst_broad, broad[day(n)].severity)
        assert worst_broad >= worst_narrow, n


@SETTINGS
@given(histories(), decision_lists(), risk_lists(), st.integers(0, 35))
def test_a_status_is_a_pure_function_of_its_inputs(history, decisions, areas, n: int) -> None:
    first = evaluate(POLICY, history, day(n), decisions=decisions, risk_areas=areas)
    again = evaluate(POLICY, list(reversed(history)), day(n), decisions=list(reversed(decisions)), risk_areas=areas)
    assert first == again


# --- the areas a declaration offers (RiskAreaList.listed_on) ----------------------------------------

_CODES = st.sampled_from([WUHAN, HUBEI, HANGZHOU, "330000", "110101", "110100"])
_AREAS = st.builds(
    lambda code, level, start, length: RiskArea(code, level, day(start), None if length is None else day(start + length)),
    _CODES, st.sampled_from([TravelRisk.MEDIUM, TravelRisk.HIGH]), st.integers(-5, 5),
    st.none() | st.integers(1, 6),
)


@SETTINGS
@given(st.lists(_AREAS, max_size=12), st.integers(-6, 8))
def test_each_listed_code_is_offered_once_at_its_highest_level_high_first(areas: list[RiskArea], on: int) -> None:
    listing = RiskAreaList(tuple(areas))
    offered = listing.listed_on(day(on))
    codes = [code for code, _ in offered]
    in_force = [area for area in areas if area.in_force_on(day(on))]
    assert len(codes) == len(set(codes)) and set(codes) == {area.code for area in in_force}
    for code, level in offered:
        own = {area.level for area in in_force if area.code == code}
        assert level is (TravelRisk.HIGH if TravelRisk.HIGH in own else TravelRisk.MEDIUM)
        # The level offered never exceeds the level the evaluation finds for having been there.
        assert not (level is TravelRisk.HIGH and listing.level_for(frozenset({code}), day(on)) is not TravelRisk.HIGH)
    assert offered == tuple(sorted(offered, key=lambda item: (item[1] is not TravelRisk.HIGH, item[0])))


def test_nothing_is_offered_on_a_day_without_listed_areas() -> None:
    listing = RiskAreaList((RiskArea(WUHAN, TravelRisk.HIGH, day(1), day(3)),))
    assert listing.listed_on(day(0)) == () and listing.listed_on(day(3)) == ()
    assert listing.listed_on(day(2)) == ((WUHAN, TravelRisk.HIGH),)
