"""Properties of evaluate() over generated declaration histories (hypothesis)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rules.evaluate import evaluate
from rules.model import Answers, Colour, Declaration, Diagnosis, Status, Symptom, TravelRisk
from rules.policy import REASON_CODES, Policy, Recovery, classify
from bot.policy_file import load_default_policy

DEFAULT = load_default_policy()
BASE = date(2020, 1, 20)
SETTINGS = settings(max_examples=150, deadline=None)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def evaluated(policy: Policy, declarations: list[Declaration], today: date) -> Status:
    status = evaluate(policy, declarations, today)
    assert status is not None
    return status


# --- strategies -------------------------------------------------------------------------------

temperatures = st.decimals(min_value=Decimal("34.0"), max_value=Decimal("43.0"), places=1)
normal_answers = st.builds(
    Answers,
    temperature=st.decimals(min_value=Decimal("34.0"), max_value=Decimal("37.2"), places=1),
    symptoms=st.just(frozenset()),
    close_contact=st.just(False),
    travel=st.just(TravelRisk.NONE),
    diagnosis=st.just(Diagnosis.NONE),
)
any_answers = st.builds(
    Answers,
    temperature=temperatures,
    symptoms=st.frozensets(st.sampled_from(Symptom), max_size=3),
    close_contact=st.booleans(),
    travel=st.sampled_from(TravelRisk),
    diagnosis=st.sampled_from(Diagnosis),
)
# Mostly normal days, as in real life, so recoveries actually happen in generated histories.
daily_answers = st.one_of(normal_answers, normal_answers, normal_answers, any_answers)


def _colour_of(answers: Answers) -> Colour:
    return classify(DEFAULT, answers)[0]


abnormal_answers = any_answers.filter(lambda a: _colour_of(a) is not Colour.GREEN)
yellow_answers = any_answers.filter(lambda a: _colour_of(a) is Colour.YELLOW)
red_answers = any_answers.filter(lambda a: _colour_of(a) is Colour.RED)


@st.composite
def histories(draw: st.DrawFn, max_day: int = 40) -> list[Declaration]:
    """Declarations on distinct days 0..max_day, with gaps, in random order."""
    by_day = draw(st.dictionaries(st.integers(0, max_day), daily_answers, max_size=max_day + 1))
    declarations = [Declaration(day(n), answers) for n, answers in by_day.items()]
    return draw(st.permutations(declarations))


@st.composite
def policies(draw: st.DrawFn, min_days: int = 1) -> Policy:
    return Policy(
        version="generated",
        name="generated",
        recovery=Recovery(yellow_days=draw(st.integers(min_days, 10)), red_days=draw(st.integers(min_days, 20))),
        red=DEFAULT.red,
        yellow=DEFAULT.yellow,
    )


def normal_run(first: int, last: int, answers: Answers) -> list[Declaration]:
    return [Declaration(day(n), answers) for n in range(first, last + 1)]


# --- invariants -------------------------------------------------------------------------------


@SETTINGS
@given(policy=policies(), history=histories(), today=st.integers(0, 45))
def test_status_fields_are_consistent(policy: Policy, history: list[Declaration], today: int) -> None:
    status = evaluate(policy, history, day(today))
    past = [d.day for d in history if d.day <= day(today)]
    if not past:
        assert status is None
        return
    assert status is not None
    assert status.evaluated_for == day(today)
    assert status.last_declared == max(past)
    assert status.declared_today == (day(today) in past)
    assert min(past) <= status.since <= day(today)
    assert status.reason.code in REASON_CODES
    if status.colour is Colour.GREEN:
        assert status.green_on is None
        assert (status.normal_streak, status.required_streak) == (0, 0)
        assert status.reason.code in {"normal", "recovered"}
    else:
        assert status.required_streak == policy.required_streak(status.colour)
        assert 0 <= status.normal_streak < status.required_streak
        days_left = status.required_streak - status.normal_streak
        assert status.green_on == day(today) + timedelta(days=days_left - (0 if status.declared_today else 1))
        assert status.green_on >= day(today)
        if status.normal_streak:
            assert status.reason.param_dict()["days_left"] == str(days_left)


@SETTINGS
@given(policy=policies(), history=histories(), today=st.integers(0, 45), data=st.data())
def test_evaluation_is_deterministic_and_independent_of_input_order(
    policy: Policy, history: list[Declaration], today: int, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(history))
    first = evaluate(policy, history, day(today))
    assert evaluate(policy, history, day(today)) == first
    assert evaluate(policy, shuffled, day(today)) == first
    assert evaluate(policy, tuple(sorted(history, key=lambda d: d.day)), day(today)) == first


@SETTINGS
@given(
    policy=policies(),
    history=histories(),
    today=st.integers(0, 40),
    future=st.lists(st.tuples(st.integers(1, 30), any_answers), max_size=10),
)
def test_declarations_after_today_are_ignored(
    policy: Policy, history: list[Declaration], today: int, future: list[tuple[int, Answers]]
) -> None:
    up_to_today = [d for d in history if d.day <= day(today)]
    later = [Declaration(day(today + ahead), answers) for ahead, answers in future]
    expected = evaluate(policy, up_to_today, day(today))
    assert evaluate(policy, history, day(today)) == expected
    assert evaluate(policy, up_to_today + later, day(today)) == expected


# --- colour changes ---------------------------------------------------------------------------


@SETTINGS
@given(
    policy=policies(min_days=2),
    history=histories(max_day=30),
    abnormal=abnormal_answers,
    normal=normal_answers,
)
def test_a_single_normal_day_never_lowers_the_colour(
    policy: Policy, history: list[Declaration], abnormal: Answers, normal: Answers
) -> None:
    earlier = [d for d in history if d.day < day(31)]
    with_abnormal = earlier + [Declaration(day(31), abnormal)]
    before = evaluated(policy, with_abnormal, day(31))
    after = evaluated(policy, with_abnormal + [Declaration(day(32), normal)], day(32))
    assert before.colour is not Colour.GREEN
    assert after.colour is before.colour
    assert after.since == before.since


@SETTINGS
@given(policy=policies(), history=histories())
def test_a_normal_day_changes_the_colour_only_by_completing_the_streak(
    policy: Policy, history: list[Declaration]
) -> None:
    normal_days = sorted(d.day for d in history if _colour_of(d.answers) is Colour.GREEN)
    for today in normal_days:
        yesterday = evaluate(policy, history, today - timedelta(days=1))
        now = evaluated(policy, history, today)
        if yesterday is None or now.colour is yesterday.colour:
            continue
        assert now.colour is Colour.GREEN
        assert now.reason.code == "recovered"
        assert now.since == today
        required = policy.required_streak(yesterday.colour)
        assert required == 1 or (yesterday.declared_today and yesterday.normal_streak == required - 1)


@SETTINGS
@given(policy=policies(), history=histories())
def test_red_never_drops_straight_to_yellow(policy: Policy, history: list[Declaration]) -> None:
    previous: Colour | None = None
    for n in range(0, 46):
        status = evaluate(policy, history, day(n))
        colour = status.colour if status else None
        assert not (previous is Colour.RED and colour is Colour.YELLOW), f"red to yellow on day {n}"
        previous = colour


@SETTINGS
@given(
    prior=st.lists(st.tuples(st.integers(0, 9), normal_answers), max_size=10),
    first=yellow_answers,
    steps_before_red=st.integers(0, 6),
    second=red_answers,
    normal=normal_answers,
)
def test_yellow_escalates_to_red(
    prior: list[tuple[int, Answers]], first: Answers, steps_before_red: int, second: Answers, normal: Answers
) -> None:
    red_day = 11 + steps_before_red
    history = (
        [Declaration(day(n), a) for n, a in dict(prior).items()]
        + [Declaration(day(10), first)]
        + normal_run(11, red_day - 1, normal)
        + [Declaration(day(red_day), second)]
    )
    assert evaluated(DEFAULT, history, day(red_day - 1)).colour is Colour.YELLOW
    status = evaluated(DEFAULT, history, day(red_day))
    assert status.colour is Colour.RED
    assert status.since == day(red_day)
    assert status.required_streak == DEFAULT.recovery.red_days
    assert status.reason == classify(DEFAULT, second)[1]


# --- exact thresholds -------------------------------------------------------------------------


@SETTINGS
@given(
    prior=st.lists(st.tuples(st.integers(0, 9), normal_answers), max_size=10),
    abnormal=yellow_answers,
    normal=normal_answers,
)
def test_yellow_turns_green_on_day_seven_of_the_streak_not_day_six(
    prior: list[tuple[int, Answers]], abnormal: Answers, normal: Answers
) -> None:
    history = (
        [Declaration(day(n), a) for n, a in dict(prior).items()]
        + [Declaration(day(10), abnormal)]
        + normal_run(11, 25, normal)
    )
    for streak in range(0, 7):
        assert evaluated(DEFAULT, history, day(10 + streak)).colour is Colour.YELLOW, streak
    on_seven = evaluated(DEFAULT, history, day(17))
    assert on_seven.colour is Colour.GREEN
    assert on_seven.since == day(17)
    assert on_seven.reason.param_dict() == {"cause": classify(DEFAULT, abnormal)[1].code}
    assert evaluated(DEFAULT, history, day(25)).colour is Colour.GREEN


@SETTINGS
@given(abnormal=red_answers, normal=normal_answers)
def test_red_turns_green_on_day_fourteen_of_the_streak_not_day_thirteen(
    abnormal: Answers, normal: Answers
) -> None:
    history = [Declaration(day(0), abnormal)] + normal_run(1, 20, normal)
    assert evaluated(DEFAULT, history, day(13)).colour is Colour.RED
    assert evaluated(DEFAULT, history, day(13)).normal_streak == 13
    assert evaluated(DEFAULT, history, day(14)).colour is Colour.GREEN


@SETTINGS
@given(policy=policies(), abnormal=abnormal_answers, normal=normal_answers)
def test_threshold_follows_the_policy_days(policy: Policy, abnormal: Answers, normal: Answers) -> None:
    colour = _colour_of(abnormal)
    required = policy.required_streak(colour)
    history = [Declaration(day(0), abnormal)] + normal_run(1, required, normal)
    if required > 1:
        assert evaluated(policy, history, day(required - 1)).colour is colour
    assert evaluated(policy, history, day(required)).colour is Colour.GREEN


@SETTINGS
@given(
    abnormal=abnormal_answers,
    normal=normal_answers,
    before_gap=st.integers(1, 12),
    gap=st.integers(1, 3),
)
def test_a_missed_day_restarts_the_count(abnormal: Answers, normal: Answers, before_gap: int, gap: int) -> None:
    required = DEFAULT.required_streak(_colour_of(abnormal))
    before_gap = min(before_gap, required - 1)
    resume = before_gap + gap + 1  # first declared day after the gap
    history = (
        [Declaration(day(0), abnormal)]
        + normal_run(1, before_gap, normal)
        + normal_run(resume, resume + required + 2, normal)
    )
    assert evaluated(DEFAULT, history, day(resume)).normal_streak == 1
    green_day = resume + required - 1
    assert evaluated(DEFAULT, history, day(green_day - 1)).colour is _colour_of(abnormal)
    assert evaluated(DEFAULT, history, day(green_day)).colour is Colour.GREEN


# --- green_on ---------------------------------------------------------------------------------


@SETTINGS
@given(policy=policies(), history=histories(), today=st.integers(0, 45), normal=normal_answers)
def test_green_on_is_exactly_when_normal_declarations_turn_the_code_green(
    policy: Policy, history: list[Declaration], today: int, normal: Answers
) -> None:
    status = evaluate(policy, history, day(today))
    assume(status is not None and status.colour is not Colour.GREEN)
    assert status is not None and status.green_on is not None
    up_to_today = [d for d in history if d.day <= day(today)]
    start = day(today + 1) if status.declared_today else day(today)
    continued = up_to_today + [
        Declaration(start + timedelta(days=k), normal) for k in range((status.green_on - start).days + 1)
    ]
    on_green_day = evaluated(policy, continued, status.green_on)
    assert on_green_day.colour is Colour.GREEN
    assert on_green_day.since == status.green_on
    assert on_green_day.reason.code == "recovered"
    assert evaluated(policy, continued, status.green_on - timedelta(days=1)).colour is status.colour


@SETTINGS
@given(policy=policies(), history=histories(), today=st.integers(0, 45))
def test_every_evaluation_records_the_policy_it_was_made_under(policy: Policy, history: list[Declaration],
                                                              today: int) -> None:
    """Issue 9 item 18: the version and name travel with the status, decided or not."""
    from rules.model import Decision

    for decisions in ((), (Decision.for_days(Colour.RED, day(today), 2, "decided"),)):
        status = evaluate(policy, history, day(today), decisions=decisions)
        if status is not None:
            assert (status.policy_version, status.policy_name) == (policy.version, policy.name)
