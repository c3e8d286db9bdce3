"""Scopes cover their region and everything the region table puts inside it, and nothing else."""
from __future__ import annotations

from hypothesis import given, strategies as st

from bot.regions import region_table
from rules.authority import ALL_ROLES, Authority, Role, covers

TABLE = region_table()
CODES = sorted(region.code for region in TABLE)


def test_a_city_scope_covers_its_counties_and_not_its_neighbours() -> None:
    assert covers(TABLE, "330100", "330106")
    assert covers(TABLE, "330000", "330106")
    assert not covers(TABLE, "330100", "330206")
    assert not covers(TABLE, "330106", "330100")  # a county does not cover its city


def test_chongqing_counties_lie_within_the_municipality() -> None:
    assert covers(TABLE, "500100", "500229")


@given(st.sampled_from(CODES), st.sampled_from(CODES))
def test_coverage_is_the_ancestor_relation(scope: str, region: str) -> None:
    ancestors = {r.code for r in TABLE.path(region)}
    assert covers(TABLE, scope, region) == (scope in ancestors)


def test_an_authority_holds_only_its_roles() -> None:
    reviewer = Authority(1, frozenset({Role.REVIEWER}), "330106")
    assert reviewer.holds(Role.REVIEWER) and not reviewer.holds(Role.HEALTH_AUTHORITY)
    assert Authority(1, ALL_ROLES, "330100", root=True).covers(TABLE, "330106")


# --- appointing and revoking ----------------------------------------------------------------------

from rules.authority import (  # noqa: E402
    STRENGTH,
    AppointmentRefusal,
    Appointment,
    appointment_refusal,
    codes_within,
    level_below,
    may_appoint,
    may_revoke,
    within_filter,
)

ROLES = st.sampled_from(sorted(Role))
SCOPES = st.sampled_from(CODES)


def test_the_strength_order_is_total_and_health_authority_strongest() -> None:
    assert sorted(Role, key=STRENGTH.__getitem__, reverse=True) == [
        Role.HEALTH_AUTHORITY, Role.REVIEWER, Role.CHECKPOINT, Role.VIEWER]
    assert len(set(STRENGTH.values())) == len(Role)


@given(ROLES, SCOPES, ROLES, SCOPES)
def test_an_appointment_is_allowed_exactly_inside_the_scope_and_no_stronger(
        held: Role, own: str, role: Role, scope: str) -> None:
    appointer = Authority(1, frozenset({held}), own)
    allowed = covers(TABLE, own, scope) and STRENGTH[role] <= STRENGTH[held]
    assert may_appoint(appointer, role, scope, TABLE) == allowed
    refusal = appointment_refusal(appointer, role, scope, TABLE)
    if not covers(TABLE, own, scope):
        assert refusal is AppointmentRefusal.OUTSIDE_SCOPE
    elif STRENGTH[role] > STRENGTH[held]:
        assert refusal is AppointmentRefusal.STRONGER_ROLE


@given(ROLES, SCOPES)
def test_the_root_appoints_anything_inside_the_issuer_region_and_nothing_outside(role: Role, scope: str) -> None:
    root = Authority(1, ALL_ROLES, "330100", root=True)
    assert may_appoint(root, role, scope, TABLE) == covers(TABLE, "330100", scope)


def test_an_unknown_scope_is_refused_as_such() -> None:
    root = Authority(1, ALL_ROLES, "330100", root=True)
    assert appointment_refusal(root, Role.VIEWER, "339999", TABLE) is AppointmentRefusal.UNKNOWN_SCOPE


@given(ROLES, SCOPES, ROLES, SCOPES, st.booleans())
def test_a_revocation_comes_from_above(held: Role, own: str, role: Role, scope: str, appointed_it: bool) -> None:
    revoker = Authority(1, frozenset({held}), own)
    appointment = Appointment(2, role, scope, appointed_by=1 if appointed_it else 3)
    allowed = may_revoke(revoker, appointment, TABLE)
    if allowed:  # never sideways or upwards
        assert covers(TABLE, own, scope) and STRENGTH[role] <= STRENGTH[held]
        assert appointed_it or own != scope
    if covers(TABLE, own, scope) and own != scope and STRENGTH[role] <= STRENGTH[held]:
        assert allowed  # strictly above, at least as strong: always


@given(ROLES, SCOPES)
def test_nobody_revokes_their_own_appointment_and_the_root_revokes_any_other(role: Role, scope: str) -> None:
    root = Authority(1, ALL_ROLES, "330100", root=True)
    assert may_revoke(root, Appointment(2, role, scope, appointed_by=9), TABLE)
    assert not may_revoke(root, Appointment(1, role, scope, appointed_by=9), TABLE)


@given(SCOPES, SCOPES)
def test_codes_within_is_exactly_what_the_scope_covers(scope: str, region: str) -> None:
    assert (region in codes_within(TABLE, scope)) == covers(TABLE, scope, region)


def test_root_is_unrestricted_and_others_filter_by_their_scope() -> None:
    assert within_filter(TABLE, Authority(1, ALL_ROLES, "330100", root=True)) is None
    assert within_filter(TABLE, Authority(1, frozenset({Role.VIEWER}), "330106")) == {"330106"}
    assert Authority(1, ALL_ROLES, "330100", root=True).covers(TABLE, "110101")
    assert not Authority(1, ALL_ROLES, "330100").covers(TABLE, "110101")


@given(SCOPES, SCOPES)
def test_level_below_is_the_child_on_the_path_or_the_scope_itself(scope: str, region: str) -> None:
    below = level_below(TABLE, scope, region)
    if not covers(TABLE, scope, region):
        assert below is None
    else:
        assert below is not None and covers(TABLE, below, region)
        assert below == scope or TABLE.parent_of(below).code == scope  # type: ignore[union-attr]
