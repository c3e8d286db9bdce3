"""The authority's hierarchy: roles, scopes, and who may act on whom. Pure.

An administrator holds one role over one scope. A scope is a GB/T 2260 region (a province ``330000``,
a city ``330100``, a county ``330106``); it covers that region and everything the region table puts
inside it. Coverage follows the table's hierarchy, not the code's digits, so Chongqing's ``500229``
lies within ``500100`` (see ``rules.regions``).

The root administrators (``HEALTHCODE_ADMIN_IDS``) hold every role over the issuer's whole region;
they exist to bootstrap the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rules.regions import RegionTable


class Role(StrEnum):
    HEALTH_AUTHORITY = "health_authority"  # decisions, risk areas, broadcasts, organisation approvals, imports
    REVIEWER = "reviewer"  # correction requests and complaints
    VIEWER = "viewer"  # statistics only, read-only
    CHECKPOINT = "checkpoint"  # checkpoint staff: scans and on-site temperatures


ALL_ROLES: frozenset[Role] = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Authority:
    """What one administrator may do, and where: ``roles`` over the region ``scope``."""

    telegram_id: int
    roles: frozenset[Role]
    scope: str  # a six-digit GB/T 2260 code
    root: bool = False

    def holds(self, role: Role) -> bool:
        return role in self.roles

    def covers(self, table: RegionTable, region_code: str) -> bool:
        """True when ``region_code`` (a person's, an organisation's, a risk area's) lies in this scope."""
        return covers(table, self.scope, region_code)


def covers(table: RegionTable, scope: str, region_code: str) -> bool:
    """True when ``region_code`` is ``scope`` or lies inside it by the region table's hierarchy."""
    return table.lies_within(region_code, scope)
