"""The authority's hierarchy: roles, scopes, and who may act on whom. Pure.

An administrator holds one role over one scope. A scope is a GB/T 2260 region (a province ``330000``,
a city ``330100``, a county ``330106``); it covers that region and everything the region table puts
inside it. Coverage follows the table's hierarchy, not the code's digits, so Chongqing's ``500229``
lies within ``500100`` (see ``rules.regions``).

The root administrators (``HEALTHCODE_ADMIN_IDS``) hold every role. They bootstrap the rest and are the
fallback for whatever no appointed scope covers: they act everywhere (people who registered from
another province, risk areas elsewhere), and they appoint inside the issuer's region.

Roles are ordered by strength (``STRENGTH``), strongest first:

    health authority > reviewer > checkpoint staff > viewer

A health authority decides colours; a reviewer changes them through corrections; checkpoint staff
record readings that turn one person's code yellow and see masked names; a viewer sees counts only.
An administrator appoints a role no stronger than the strongest they hold, over their own scope or a
narrower one. A revocation comes from above (``may_revoke``): the root, the appointer, or someone over a
wider scope with a role at least as strong.
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

# Higher is stronger. A total order, so "no stronger than" always has an answer.
STRENGTH: dict[Role, int] = {
    Role.HEALTH_AUTHORITY: 4,
    Role.REVIEWER: 3,
    Role.CHECKPOINT: 2,
    Role.VIEWER: 1,
}


def strength(role: Role) -> int:
    return STRENGTH[role]


@dataclass(frozen=True, slots=True)
class Authority:
    """What one administrator may do, and where: ``roles`` over the region ``scope``."""

    telegram_id: int
    roles: frozenset[Role]
    scope: str  # a six-digit GB/T 2260 code
    root: bool = False

    def holds(self, role: Role) -> bool:
        return role in self.roles

    @property
    def strongest(self) -> int:
        """The strength of the strongest role held (0 for none)."""
        return max((STRENGTH[role] for role in self.roles), default=0)

    def covers(self, table: RegionTable, region_code: str) -> bool:
        """True when ``region_code`` (a person's, an organisation's, a risk area's) is this administrator's
        to act on: inside the scope, or anywhere for a root administrator (the fallback)."""
        return self.root or covers(table, self.scope, region_code)


def covers(table: RegionTable, scope: str, region_code: str) -> bool:
    """True when ``region_code`` is ``scope`` or lies inside it by the region table's hierarchy."""
    return table.lies_within(region_code, scope)


def codes_within(table: RegionTable, scope: str) -> frozenset[str]:
    """Every code the scope covers (itself included): what storage filters by, as ``IN (...)``.
    Empty for a code the table does not know, so an unknown scope covers nothing."""
    if table.get(scope) is None:
        return frozenset()
    found: set[str] = set()
    pending = [scope]
    while pending:
        code = pending.pop()
        found.add(code)
        pending.extend(child.code for child in table.children_of(code))
    return frozenset(found)


def within_filter(table: RegionTable, authority: Authority) -> frozenset[str] | None:
    """The region codes an administrator acts on, for storage's SQL; None means unrestricted (root)."""
    return None if authority.root else codes_within(table, authority.scope)


# --- appointing and revoking ----------------------------------------------------------------------


class AppointmentRefusal(StrEnum):
    """Why an appointment may not be made (each has its own message)."""

    UNKNOWN_SCOPE = "unknown_scope"  # not a region of the table
    OUTSIDE_SCOPE = "outside_scope"  # not the appointer's scope nor inside it
    STRONGER_ROLE = "stronger_role"  # a role stronger than any the appointer holds


def appointment_refusal(appointer: Authority, role: Role, scope: str, table: RegionTable) -> AppointmentRefusal | None:
    """None when ``appointer`` may appoint ``role`` over ``scope``; otherwise why not.

    The scope must be the appointer's own or narrower (a root's own is the issuer's region), and the role
    no stronger than the appointer's strongest.
    """
    if table.get(scope) is None:
        return AppointmentRefusal.UNKNOWN_SCOPE
    if not covers(table, appointer.scope, scope):
        return AppointmentRefusal.OUTSIDE_SCOPE
    if STRENGTH[role] > appointer.strongest:
        return AppointmentRefusal.STRONGER_ROLE
    return None


def may_appoint(appointer: Authority, role: Role, scope: str, table: RegionTable) -> bool:
    return appointment_refusal(appointer, role, scope, table) is None


@dataclass(frozen=True, slots=True)
class Appointment:
    """One appointment as the rules see it: who holds which role over which scope, and who appointed them."""

    telegram_id: int
    role: Role
    scope: str
    appointed_by: int


def may_revoke(revoker: Authority, appointment: Appointment, table: RegionTable) -> bool:
    """A revocation comes from above: the root; the appointer, while they could still make it; or anyone
    whose scope strictly contains the appointment's and whose strongest role is at least the revoked one.
    A peer (same scope, not the appointer) may not, and nobody revokes their own appointment this way."""
    if revoker.telegram_id == appointment.telegram_id:
        return False
    if revoker.root:
        return True
    if not may_appoint(revoker, appointment.role, appointment.scope, table):
        return False
    return revoker.telegram_id == appointment.appointed_by or revoker.scope != appointment.scope


def level_below(table: RegionTable, scope: str, region_code: str) -> str | None:
    """The region one level below ``scope`` that ``region_code`` lies in (the row /stats counts it in):
    ``scope`` itself for a person registered at exactly that level, None when outside it."""
    path = [region.code for region in table.path(region_code)]
    if scope not in path:
        return None
    index = path.index(scope)
    return path[index + 1] if index + 1 < len(path) else scope
