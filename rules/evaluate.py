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
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from rules.model import Colour, Declaration, Reason, Status
from rules.policy import NORMAL, Policy, ReasonCode, classify

_ONE_DAY = timedelta(days=1)

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
            ReasonCode.SYMPTOMS,
            ReasonCode.NORMAL,
        )
    )
}


@dataclass(frozen=True, slots=True)
class _Verdict:
    colour: Colour
    reason: Reason


def evaluate(policy: Policy, declarations: Iterable[Declaration], today: date) -> Status | None:
    """The health code on ``today``, or None when nothing was declared on or before it."""
    verdicts = _verdicts_by_day(policy, declarations, today)
    if not verdicts:
        return None
    first_day = min(verdicts)
    colour, reason, since, cause = Colour.GREEN, NORMAL, first_day, NORMAL
    streak = 0
    day = first_day
    while day <= today:
        verdict = verdicts.get(day)
        if verdict is not None and verdict.colour is not Colour.GREEN:
            worse = colour.worse_of(verdict.colour)
            if worse is not colour:
                colour, since = worse, day
            if verdict.colour is colour:
                cause = verdict.reason
            reason, streak = cause, 0
        elif verdict is not None and colour is not Colour.GREEN:
            streak += 1
            if streak >= policy.required_streak(colour):
                reason = Reason(ReasonCode.RECOVERED.value, (("cause", cause.code),))
                colour, since, streak = Colour.GREEN, day, 0
        elif verdict is None and day < today:
            streak = 0  # a missed day; harmless when green since streak is already 0
        day += _ONE_DAY
    return _status(policy, colour, reason, cause, since, streak, verdicts, today)


def _status(
    policy: Policy,
    colour: Colour,
    reason: Reason,
    cause: Reason,
    since: date,
    streak: int,
    verdicts: dict[date, _Verdict],
    today: date,
) -> Status:
    declared_today = today in verdicts
    required = policy.required_streak(colour)
    green_on: date | None = None
    if colour is not Colour.GREEN:
        days_left = required - streak
        # Today's declaration, if still to come, is one of the days_left.
        green_on = today + timedelta(days=days_left if declared_today else days_left - 1)
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
        last_declared=max(verdicts),
        evaluated_for=today,
    )


def _verdicts_by_day(policy: Policy, declarations: Iterable[Declaration], today: date) -> dict[date, _Verdict]:
    """Classify each day's declaration, ignoring days after ``today``.

    Storage keeps one declaration per day; should a day still carry several, the gravest counts, so
    the result never depends on the order the declarations arrive in.
    """
    verdicts: dict[date, _Verdict] = {}
    for declaration in declarations:
        if declaration.day > today:
            continue
        colour, reason = classify(policy, declaration.answers)
        candidate = _Verdict(colour, reason)
        current = verdicts.get(declaration.day)
        if current is None or _gravity(candidate) < _gravity(current):
            verdicts[declaration.day] = candidate
    return verdicts


def _gravity(verdict: _Verdict) -> tuple[int, int, tuple[tuple[str, str], ...]]:
    """Sort key: smaller is graver. Params break the last ties so the choice is total."""
    rank = _REASON_RANK.get(verdict.reason.code, len(_REASON_RANK))
    return (-verdict.colour.severity, rank, verdict.reason.params)
