"""Retention decisions: which of a person's declarations may be deleted without changing their code.

``evaluate`` replays every declaration it is given, so deleting the abnormal day behind a code that
is still yellow or red would turn it green. For a non-green code everything from the day the colour
was set (``since``) is kept: that day and the streak after it. The code is then evaluated again from
what would remain, and the deletion goes ahead only if the person would see the same code.

Decisions are left out of both evaluations: they overlay the declarations and do not depend on
them, so only what the declarations alone give has to stay the same.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rules.evaluate import evaluate
from rules.model import Colour, Declaration, RiskAreaList, Status
from rules.policy import Policy


def keep_declarations_from(current: Status | None, cutoff: date) -> date:
    """The first day to keep: the cutoff, or the day a yellow or red code got its colour if earlier."""
    if current is None or current.colour is Colour.GREEN:
        return cutoff
    return min(cutoff, current.since)


def same_code(before: Status, after: Status | None) -> bool:
    """Would the person see the same code? Colour, streak and green date; for non-green, reason too.

    A green code's reason and start day may change (``recovered`` after … becomes ``normal``): the
    history behind a green code is exactly what retention is meant to let go.
    """
    if after is None:
        return False
    same = (before.colour, before.normal_streak, before.green_on) == (after.colour, after.normal_streak, after.green_on)
    if before.colour is Colour.GREEN:
        return same
    return same and before.reason == after.reason and before.since == after.since


def first_day_to_keep(policy: Policy, declarations: Sequence[Declaration], today: date, cutoff: date,
                      risk_areas: RiskAreaList = RiskAreaList.empty()) -> date | None:
    """Delete the declarations before the returned day; None: keep them all this time, because
    deleting would change the person's code."""
    current = evaluate(policy, declarations, today, risk_areas=risk_areas)
    keep_from = keep_declarations_from(current, cutoff)
    remaining = [declaration for declaration in declarations if declaration.day >= keep_from]
    if current is not None and remaining and not same_code(
            current, evaluate(policy, remaining, today, risk_areas=risk_areas)):
        return None
    return keep_from
