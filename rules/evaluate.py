"""Turn a citizen's declarations into today's health code.

``evaluate`` replays the declarations day by day from the first one to ``today``:

* An abnormal declaration makes the colour the worse of the current colour and its own (so yellow
  escalates to red, and red never drops to yellow) and restarts the normal streak at 0. ``since``
  moves only when the colour actually changes.
* A normal declaration while yellow or red extends the streak; when the streak reaches the policy's
  days for the *current* colour the code turns green that same day (reason ``recovered``).
* A day before ``today`` with no declaration breaks the streak while yellow or red. ``today`` not
  yet declared is not a missed day. A green code stays green whatever is missed.

What the Status reason says:

* green: ``normal`` if the code was never anything else, ``recovered`` (param ``cause``) for the
  green period that followed a completed streak.
* yellow/red with no normal streak running: the abnormal answer behind the colour. When several
  abnormal declarations hold the same colour it is the latest one, since that is the answer the
  citizen must now get past.
* yellow/red with a streak running: ``recovering`` with params ``cause`` (the code of that abnormal
  answer) and ``days_left`` (normal declarations still needed, today's included if not yet made).

Risk areas: a declaration that names visited areas is judged by the risk-area list in force on the
declaration's own day, so adding or lifting an area later never rewrites how an earlier day counted
(unless the change is itself dated back). The worse of the citizen's own travel answer and the
listed level counts.

Checkpoint readings: a temperature measured by checkpoint staff (``Reading``) is judged by the policy
exactly as a declared temperature would be. At or above the threshold it is an abnormal answer for its
day (reason ``checkpoint_reading``, params ``checkpoint`` and ``temperature``), restarting the recovery
count as a self-declared fever does; the graver of it and that day's declaration counts. Below the
threshold it is nothing: it does not declare the day, so it neither extends a streak nor fills a
missed day.

Health-authority decisions are an overlay: while one covers ``today`` the code has the decision's
colour (reason ``authority_decision``, params ``reason`` and ``until``), and the declarations keep
being replayed underneath. On the day after its last day the decision no longer applies and the
code is whatever the declarations alone give, so a decision expires without any job running.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from rules.model import (
    Answers,
    Colour,
    Decision,
    Declaration,
    Diagnosis,
    Reading,
    Reason,
    RiskAreaList,
    Status,
    TravelRisk,
)
from rules.policy import NORMAL, Policy, ReasonCode, classify

_ONE_DAY = timedelta(days=1)
# The reason while a decision forces the colour; params ``reason`` and ``until`` (ISO date). Not a
# policy ReasonCode: the policy's answers can never produce it, only a recorded decision can.
DECISION_REASON = "authority_decision"

# Tie-break when one day carries more than one declaration: a graver reason wins.
_REASON_RANK = {
    code.value: rank
    for rank, code in enumerate(
        (
            ReasonCode.DIAGNOSIS_CONFIRMED,
            ReasonCode.DIAGNOSIS_SUSPECTED,
            ReasonCode.CLOSE_CONTACT,
            ReasonCode.TRAVEL_HIGH,
            ReasonCode.TRAVEL_MEDIUM,
            ReasonCode.TEMPERATURE_HIGH,
            ReasonCode.CHECKPOINT_READING,
            ReasonCode.SYMPTOMS,
            ReasonCode.NORMAL,
        )
    )
}


@dataclass(frozen=True, slots=True)
class _Verdict:
    colour: Colour
    reason: Reason


def evaluate(
    policy: Policy,
    declarations: Iterable[Declaration],
    today: date,
    *,
    decisions: Iterable[Decision] = (),
    risk_areas: RiskAreaList = RiskAreaList.empty(),
    readings: Iterable[Reading] = (),
) -> Status | None:
    """The health code on ``today``, or None when nothing was declared (or measured abnormal) on or
    before it and no decision covers it."""
    declared: set[date] = set()
    verdicts = _verdicts_by_day(policy, declarations, today, risk_areas, readings, declared)
    base = None
    if verdicts:
        state = _replay(policy, verdicts, today)
        base = _status(policy, state, verdicts, declared, today)
    decision = decision_on(decisions, today)
    return base if decision is None else _forced(policy, base, decision, today)


def colours_by_day(
    policy: Policy,
    declarations: Iterable[Declaration],
    first_day: date,
    last_day: date,
    *,
    decisions: Iterable[Decision] = (),
    risk_areas: RiskAreaList = RiskAreaList.empty(),
    readings: Iterable[Reading] = (),
) -> dict[date, Colour | None]:
    """The colour on every day from ``first_day`` to ``last_day`` (None: no code that day).

    One replay gives the whole history; each day's value equals ``evaluate(..., today=day).colour``.
    """
    if first_day > last_day:
        raise ValueError("first_day: must not be after last_day")
    verdicts = _verdicts_by_day(policy, declarations, last_day, risk_areas, readings, set())
    recorded: dict[date, Colour] = {}
    if verdicts:
        _replay(policy, verdicts, last_day, recorded)
    decision_list = list(decisions)
    history: dict[date, Colour | None] = {}
    day = first_day
    while day <= last_day:
        decision = decision_on(decision_list, day)
        history[day] = decision.colour if decision is not None else recorded.get(day)
        day += _ONE_DAY
    return history


@dataclass(frozen=True, order=True, slots=True)
class Risk:
    """How grave one day's answers are under a policy; a larger Risk is graver.

    The colour counts first, then the reason behind it, in the order a reason wins a tie within one
    day: a confirmed case above a suspected one, above a close contact, high- then medium-risk
    travel, a high temperature, symptoms, normal. Two answers with the same reason (38.5 °C and
    37.5 °C, or different symptoms) are the same risk.
    """

    severity: int
    gravity: int


def declaration_risk(
    policy: Policy, declaration: Declaration, risk_areas: RiskAreaList = RiskAreaList.empty()
) -> Risk:
    """The risk of one declaration, judged (like ``evaluate``) by the risk areas of its own day."""
    colour, reason = classify(policy, _with_listed_travel(declaration, risk_areas))
    return Risk(colour.severity, -_REASON_RANK.get(reason.code, len(_REASON_RANK)))


def lowers_risk(
    policy: Policy, earlier: Declaration, replacement: Declaration, risk_areas: RiskAreaList = RiskAreaList.empty()
) -> bool:
    """Whether ``replacement`` would report less risk than ``earlier``, the answers of the same day.

    Within one day a re-declaration may raise the risk but never lower it: a self-declared case
    cannot be cleared by the person who declared it. Lowering is a health-authority decision.
    """
    if earlier.day != replacement.day:
        raise ValueError("replacement.day: must be the day of the earlier declaration")
    return declaration_risk(policy, replacement, risk_areas) < declaration_risk(policy, earlier, risk_areas)


def decision_on(decisions: Iterable[Decision], day: date) -> Decision | None:
    """The decision in force on ``day``: of those covering it, the one decided last."""
    covering = [decision for decision in decisions if decision.applies_on(day)]
    return max(covering, key=lambda decision: decision.sequence, default=None)


@dataclass(slots=True)
class _State:
    colour: Colour
    reason: Reason
    since: date
    cause: Reason
    streak: int = 0


def _replay(
    policy: Policy, verdicts: dict[date, _Verdict], last_day: date, record: dict[date, Colour] | None = None
) -> _State:
    """Walk from the first declared day to ``last_day``; ``record`` gets each day's colour."""
    first_day = min(verdicts)
    state = _State(Colour.GREEN, NORMAL, first_day, NORMAL)
    day = first_day
    while day <= last_day:
        verdict = verdicts.get(day)
        if verdict is not None and verdict.colour is not Colour.GREEN:
            worse = state.colour.worse_of(verdict.colour)
            if worse is not state.colour:
                state.colour, state.since = worse, day
            if verdict.colour is state.colour:
                state.cause = verdict.reason
            state.reason, state.streak = state.cause, 0
        elif verdict is not None and state.colour is not Colour.GREEN:
            state.streak += 1
            if state.streak >= policy.required_streak(state.colour):
                state.reason = Reason(ReasonCode.RECOVERED.value, (("cause", state.cause.code),))
                state.colour, state.since, state.streak = Colour.GREEN, day, 0
        elif verdict is None and day < last_day:
            state.streak = 0  # a missed day; harmless when green since streak is already 0
        if record is not None:
            record[day] = state.colour
        day += _ONE_DAY
    return state


def _forced(policy: Policy, base: Status | None, decision: Decision, today: date) -> Status:
    """The decision's colour, keeping what the declarations say about streaks and declaring."""
    lifted = decision.last_day + _ONE_DAY
    green_on: date | None = None
    if decision.colour is not Colour.GREEN:
        underneath = base.green_on if base is not None and base.green_on is not None else lifted
        green_on = max(underneath, lifted)
    reason = Reason(DECISION_REASON, (("reason", decision.reason), ("until", decision.last_day.isoformat())))
    days_left: int | None = None
    if decision.colour is not Colour.GREEN:
        days_left = base.days_left if base is not None and base.days_left is not None else 0
    return Status(
        colour=decision.colour,
        reason=reason,
        since=decision.first_day,
        green_on=green_on,
        normal_streak=base.normal_streak if base is not None else 0,
        required_streak=policy.required_streak(decision.colour),
        declared_today=base.declared_today if base is not None else False,
        last_declared=base.last_declared if base is not None else None,
        evaluated_for=today,
        decision_until=decision.last_day,
        days_left=days_left,
        policy_version=policy.version,
        policy_name=policy.name,
    )


def _status(policy: Policy, state: _State, verdicts: dict[date, _Verdict], declared: set[date], today: date) -> Status:
    colour, reason, cause, since, streak = state.colour, state.reason, state.cause, state.since, state.streak
    declared_today = today in declared
    required = policy.required_streak(colour)
    green_on: date | None = None
    days_left: int | None = None
    if colour is not Colour.GREEN:
        days_left = required - streak
        # Today's declaration, if still to come, is one of the days_left; a day already judged (declared,
        # or an abnormal reading taken today) is not.
        green_on = today + timedelta(days=days_left if today in verdicts else days_left - 1)
        if streak > 0:
            reason = Reason(
                ReasonCode.RECOVERING.value, (("cause", cause.code), ("days_left", str(days_left)))
            )
    return Status(
        colour=colour,
        reason=reason,
        since=since,
        green_on=green_on,
        normal_streak=streak,
        required_streak=required,
        declared_today=declared_today,
        last_declared=max(declared, default=None),
        evaluated_for=today,
        days_left=days_left,
        policy_version=policy.version,
        policy_name=policy.name,
    )


def _verdicts_by_day(
    policy: Policy, declarations: Iterable[Declaration], today: date, risk_areas: RiskAreaList,
    readings: Iterable[Reading], declared: set[date],
) -> dict[date, _Verdict]:
    """Classify each day's declaration and abnormal readings, ignoring days after ``today``; ``declared``
    gets the days with a declaration.

    Storage keeps one declaration per day; should a day still carry several, or a reading as well, the
    gravest counts, so the result never depends on the order the inputs arrive in.
    """
    verdicts: dict[date, _Verdict] = {}

    def consider(day: date, candidate: _Verdict) -> None:
        current = verdicts.get(day)
        if current is None or _gravity(candidate) < _gravity(current):
            verdicts[day] = candidate

    for declaration in declarations:
        if declaration.day > today:
            continue
        declared.add(declaration.day)
        answers = _with_listed_travel(declaration, risk_areas)
        consider(declaration.day, _Verdict(*classify(policy, answers)))
    for reading in readings:
        verdict = None if reading.day > today else _reading_verdict(policy, reading)
        if verdict is not None:
            consider(reading.day, verdict)
    return verdicts


def _reading_verdict(policy: Policy, reading: Reading) -> _Verdict | None:
    """What a checkpoint reading calls for: the colour the policy gives that temperature declared with
    every other answer fine, or None (it counts for nothing) below the threshold."""
    measured = Answers(reading.temperature, frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
    colour, _ = classify(policy, measured)
    if colour is Colour.GREEN:
        return None
    params = (("checkpoint", reading.checkpoint), ("temperature", str(reading.temperature)))
    return _Verdict(colour, Reason(ReasonCode.CHECKPOINT_READING.value, params))


def reading_is_abnormal(policy: Policy, reading: Reading) -> bool:
    """Whether the reading turns the code (at or above the policy's temperature threshold)."""
    return _reading_verdict(policy, reading) is not None


_TRAVEL_ORDER = (TravelRisk.NONE, TravelRisk.MEDIUM, TravelRisk.HIGH)


def _with_listed_travel(declaration: Declaration, risk_areas: RiskAreaList) -> Answers:
    """The answers with travel raised to the level the visited areas had on the declaration's day."""
    answers = declaration.answers
    if not answers.visited:
        return answers
    listed = risk_areas.level_for(answers.visited, declaration.day)
    if _TRAVEL_ORDER.index(listed) <= _TRAVEL_ORDER.index(answers.travel):
        return answers
    return replace(answers, travel=listed)


def _gravity(verdict: _Verdict) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Sort key: smaller is graver. Params break the last ties so the choice is total."""
    rank = _REASON_RANK.get(verdict.reason.code, len(_REASON_RANK))
    return (-verdict.colour.severity, rank, verdict.reason.params)
