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
