"""Properties of classify_change(): which change of a code, at a day change, deserves a notice (hypothesis)."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rules.evaluate import DECISION_REASON
from rules.model import Colour, Reason, Status
from rules.policy import REASON_CODES, ReasonCode
from rules.status_change import EarlierStatus, StatusChange, classify_change

TODAY = date(2026, 3, 10)
YESTERDAY = TODAY - timedelta(days=1)
SETTINGS = settings(max_examples=300, deadline=None)

colours = st.sampled_from(list(Colour))
reason_codes = st.sampled_from(sorted(REASON_CODES | {DECISION_REASON}))
versions = st.sampled_from([None, "2026.1", "2026.2"])
earlier_statuses = st.builds(EarlierStatus, colour=colours, reason_code=reason_codes, policy_version=versions)


@st.composite
def statuses(draw: st.DrawFn) -> Status:
    return Status(
        colour=draw(colours),
        reason=Reason(draw(reason_codes)),
        since=TODAY - timedelta(days=draw(st.integers(0, 30))),
        green_on=None,
        normal_streak=draw(st.integers(0, 14)),
        last_declared=draw(st.none() | st.integers(0, 10).map(lambda back: TODAY - timedelta(days=back))),
        evaluated_for=TODAY,
        policy_version=draw(versions),
    )


@SETTINGS
@given(statuses())
def test_a_first_status_is_never_a_change(status: Status) -> None:
    assert classify_change(None, status, TODAY) is None


@SETTINGS
@given(earlier_statuses, statuses())
def test_a_changed_colour_always_gets_a_notice_and_never_a_missed_day(earlier: EarlierStatus, status: Status) -> None:
    assume(earlier.colour is not status.colour)
    assert classify_change(earlier, status, TODAY) not in (None, StatusChange.MISSED_DAY)


@SETTINGS
@given(colours, versions, statuses())
def test_a_lifted_decision_is_named_as_such_whatever_the_colour(colour: Colour, version: str | None,
                                                                 status: Status) -> None:
    assume(status.reason.code != DECISION_REASON)
    earlier = EarlierStatus(colour, DECISION_REASON, version)
    assert classify_change(earlier, status, TODAY) is StatusChange.DECISION_LIFTED


@SETTINGS
@given(earlier_statuses, statuses())
def test_the_same_colour_only_ever_notices_a_lifted_decision_or_a_restarted_streak(
    earlier: EarlierStatus, status: Status
) -> None:
    assume(earlier.colour is status.colour)
    assert classify_change(earlier, status, TODAY) in (None, StatusChange.DECISION_LIFTED, StatusChange.MISSED_DAY)


@SETTINGS
@given(earlier_statuses, statuses())
def test_a_new_policy_alone_is_no_news(earlier: EarlierStatus, status: Status) -> None:
    """The same colour under another policy version: no notice unless a streak restarted."""
    assume(earlier.colour is status.colour and earlier.reason_code != DECISION_REASON)
    assume(earlier.reason_code != ReasonCode.RECOVERING.value)
    assert classify_change(earlier, status, TODAY) is None


@SETTINGS
@given(earlier_statuses, statuses())
def test_each_change_is_named_only_when_its_conditions_hold(earlier: EarlierStatus, status: Status) -> None:
    change = classify_change(earlier, status, TODAY)
    if change is StatusChange.DECISION_LIFTED:
        assert earlier.reason_code == DECISION_REASON and status.reason.code != DECISION_REASON
    if change is StatusChange.RECOVERED:
        assert status.colour is Colour.GREEN and status.reason.code == ReasonCode.RECOVERED.value
        assert earlier.colour is not Colour.GREEN
    if change is StatusChange.POLICY_CHANGED:
        assert earlier.colour is not status.colour
        assert earlier.policy_version is not None and earlier.policy_version != status.policy_version
    if change is StatusChange.COLOUR_CHANGED:
        assert earlier.colour is not status.colour
        assert earlier.policy_version in (None, status.policy_version)
    if change is StatusChange.MISSED_DAY:
        assert earlier.reason_code == ReasonCode.RECOVERING.value and status.colour is not Colour.GREEN
        assert status.normal_streak == 0
        assert status.last_declared is None or status.last_declared < YESTERDAY


@SETTINGS
@given(statuses(), st.sampled_from([None, "2026.1", "2026.2"]))
def test_a_running_streak_restarts_exactly_when_yesterday_was_missed(status: Status, version: str | None) -> None:
    assume(status.colour is not Colour.GREEN and status.reason.code != DECISION_REASON)
    earlier = EarlierStatus(status.colour, ReasonCode.RECOVERING.value, version)
    missed = status.normal_streak == 0 and (status.last_declared is None or status.last_declared < YESTERDAY)
    assert (classify_change(earlier, status, TODAY) is StatusChange.MISSED_DAY) == missed


def test_the_values_are_the_stored_notice_kinds() -> None:
    assert {change.value for change in StatusChange} == {
        "recovered", "missed_day", "decision_lifted", "policy_changed", "colour_changed"}
