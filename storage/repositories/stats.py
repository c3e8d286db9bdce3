"""Counts for administrators: registrations, today's declarations, colours, by province.

Nothing here returns a person: only counts. (The 14-day chart replays declaration histories,
which ``DeclarationRepository.histories`` streams user by user.)
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import String, case, func, literal, select

from rules.model import Colour
from storage.models import StatusRow, UserRow
from storage.records import Counts
from storage.repositories.base import Repository, table_of
from storage.repositories.declarations import DeclarationRepository

_users = table_of(UserRow)
_statuses = table_of(StatusRow)


class StatsRepository(Repository):
    async def totals(self, today: date) -> Counts:
        return (await self._grouped(today, None)).get("", Counts())

    async def by_province(self, today: date) -> dict[str, Counts]:
        """Counts keyed by the two-digit province prefix of the residence region code."""
        return await self._grouped(today, func.substr(_users.c.region_code, 1, 2))

    async def by_region(self, today: date, within: Collection[str] | None = None) -> dict[str, Counts]:
        """Counts keyed by the exact region code people registered with, each with the policy versions its
        stored codes were evaluated under; only the region codes ``within`` when given (a scope: users'
        region codes are kept in clear, so this is an IN in the query, never a filter afterwards)."""
        return await self._grouped(today, _users.c.region_code, within, by_policy=True)

    async def _grouped(self, today: date, key: Any, within: Collection[str] | None = None, *,
                       by_policy: bool = False) -> dict[str, Counts]:
        declared = DeclarationRepository.declared_on(today).subquery("declared")
        group = key if key is not None else literal("", String)
        grouping = [key] if key is not None else []
        query = (
            select(
                group.label("key"),
                _statuses.c.colour,
                func.count(),
                func.sum(case((declared.c.user_id.is_not(None), 1), else_=0)),
            )
            .select_from(_users)
            .outerjoin(_statuses, _statuses.c.user_id == _users.c.id)
            .outerjoin(declared, declared.c.user_id == _users.c.id)
            .group_by(*grouping, _statuses.c.colour)
        )
        if by_policy:
            query = query.add_columns(_statuses.c.policy_version).group_by(_statuses.c.policy_version)
        if within is not None:
            query = query.where(_users.c.region_code.in_(sorted(within)))
        found: dict[str, Counts] = {}
        for row in (await self._session.execute(query)).all():
            prefix, colour, count, declared_count = row[:4]
            counts = found.setdefault(prefix or "", Counts())
            if by_policy and colour is not None:
                counts.policies[row[4]] = counts.policies.get(row[4], 0) + count
            counts.registered += count
            counts.declared_today += int(declared_count or 0)
            if colour is None:
                counts.without_code += count
            else:
                counts.colours[Colour(colour)] += count
        return found

    async def by_policy(self, within: Collection[str] | None = None) -> list[tuple[str | None, str | None, int]]:
        """(policy version, name, number of stored statuses) for every policy a stored status was
        evaluated under; (None, None, n) for statuses stored before versions were recorded."""
        query = (
            select(_statuses.c.policy_version, _statuses.c.policy_name, func.count())
            .group_by(_statuses.c.policy_version, _statuses.c.policy_name)
        )
        if within is not None:
            in_scope = select(_users.c.id).where(_users.c.region_code.in_(sorted(within)))
            query = query.where(_statuses.c.user_id.in_(in_scope))
        rows = (await self._session.execute(query)).all()
        return sorted(((version, name, count) for version, name, count in rows),
                      key=lambda row: (row[0] is None, row[0] or "", row[1] or ""))
