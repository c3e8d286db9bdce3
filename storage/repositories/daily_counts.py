"""Anonymous daily counts per region and colour, kept for statistics after personal data is gone."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, func, select

from storage.models import DailyCountRow, StatusRow, UserRow
from storage.records import DailyCountRecord
from storage.repositories.base import Repository, require_aware, table_of
from storage.repositories.declarations import DeclarationRepository

_counts = table_of(DailyCountRow)
_statuses = table_of(StatusRow)
_users = table_of(UserRow)


class DailyCountRepository(Repository):
    async def record_day(self, day: date, now: datetime) -> int:
        """(Re)compute ``day``'s counts from the stored statuses and that day's declarations.

        Replaces whatever was recorded for ``day`` before, so running it twice changes nothing.
        Returns the number of (region, colour) rows written.
        """
        require_aware("now", now)
        declared = DeclarationRepository.declarations_on(day).subquery("declared")
        query = (
            select(
                _users.c.region_code,
                _statuses.c.colour,
                func.count().label("codes"),
                func.count(declared.c.id).label("declared"),
            )
            .select_from(
                _statuses.join(_users, _users.c.id == _statuses.c.user_id).outerjoin(
                    declared, declared.c.user_id == _statuses.c.user_id
                )
            )
            .group_by(_users.c.region_code, _statuses.c.colour)
        )
        groups = (await self._session.execute(query)).all()
        await self._session.execute(delete(_counts).where(_counts.c.day == day))
        if groups:
            await self._session.execute(
                _counts.insert(),
                [
                    {"day": day, "region_code": g.region_code, "colour": g.colour, "codes": g.codes,
                     "declared": g.declared, "computed_at": now}
                    for g in groups
                ],
            )
        return len(groups)

    async def between(self, first_day: date, last_day: date) -> list[DailyCountRecord]:
        if first_day > last_day:
            raise ValueError("first_day: must not be after last_day")
        query = (
            select(_counts)
            .where(_counts.c.day >= first_day, _counts.c.day <= last_day)
            .order_by(_counts.c.day, _counts.c.region_code, _counts.c.colour)
        )
        return [
            DailyCountRecord(r.day, r.region_code, r.colour, r.codes, r.declared)
            for r in (await self._session.execute(query)).all()
        ]
