"""Which change of a person's code deserves a notice, when the day changes and it is evaluated again.

Pure: the status stored before (only what that classification needs of it) and the status now.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rules.evaluate import DECISION_REASON
from rules.model import Colour, Status
from rules.policy import ReasonCode


class StatusChange(StrEnum):
    """The notice a change deserves. Values are stable: they are stored and key the message catalogue."""

    RECOVERED = "recovered"  # a completed streak (or any cause) turned the code green
    MISSED_DAY = "missed_day"  # a recovery streak was running and yesterday was not declared: it restarts
    DECISION_LIFTED = "decision_lifted"  # a health-authority decision behind the colour expired
    POLICY_CHANGED = "policy_changed"  # the colour changed under another policy version than the stored one
    COLOUR_CHANGED = "colour_changed"  # the colour changed for another reason (e.g. a new decision)


@dataclass(frozen=True, slots=True)
class EarlierStatus:
    """What the classification needs of the status stored before."""

    colour: Colour
    reason_code: str
    # None for a status stored before policy versions were recorded: never taken for a policy change.
    policy_version: str | None = None


def classify_change(earlier: EarlierStatus | None, status: Status, today: date) -> StatusChange | None:
    """The notice, if any, that the move from ``earlier`` to ``status`` (evaluated for ``today``) deserves.

    Nobody is told about a first status (``earlier`` None), nor about a new day with the same colour,
    except that a running recovery streak restarted.
    """
    if earlier is None:
        return None
    if earlier.reason_code == DECISION_REASON and status.reason.code != DECISION_REASON:
        return StatusChange.DECISION_LIFTED
    if earlier.colour is not status.colour:
        if earlier.policy_version is not None and earlier.policy_version != status.policy_version:
            return StatusChange.POLICY_CHANGED
        recovered = status.colour is Colour.GREEN and status.reason.code == ReasonCode.RECOVERED.value
        return StatusChange.RECOVERED if recovered else StatusChange.COLOUR_CHANGED
    if _streak_restarted(earlier, status, today):
        return StatusChange.MISSED_DAY
    return None


def _streak_restarted(earlier: EarlierStatus, status: Status, today: date) -> bool:
    streak_was_running = earlier.reason_code == ReasonCode.RECOVERING.value
    yesterday_missed = status.last_declared is None or status.last_declared < today - timedelta(days=1)
    return status.colour is not Colour.GREEN and streak_was_running and status.normal_streak == 0 and yesterday_missed
