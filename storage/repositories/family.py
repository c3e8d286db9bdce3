"""Guardian links and the second guardian's single-use invites (storage.models.family)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from storage.errors import AlreadyLinked
from storage.models import GuardianInviteRow, GuardianRow
from storage.models.family import FULL_ACCESS, READ_ACCESS
from storage.records import GuardianLink
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_links = table_of(GuardianRow)
_invites = table_of(GuardianInviteRow)


class FamilyRepository(Repository):
    async def link(self, guardian_user_id: int, dependant_user_id: int, *, relation: str, basis: str,
                   notice_version: str, agreed_at: datetime, now: datetime) -> GuardianLink:
        require_aware("now", now)
        require_aware("agreed_at", agreed_at)
        values: dict[str, Any] = {
            "guardian_user_id": guardian_user_id, "dependant_user_id": dependant_user_id, "relation": relation,
            "basis": basis, "notice_version": notice_version, "agreed_at": agreed_at, "access": FULL_ACCESS,
            "created_at": now,
        }
        try:
            async with self._session.begin_nested():
                link_id = (await self._session.execute(_links.insert().values(values).returning(_links.c.id))).scalar_one()
        except IntegrityError:
            raise AlreadyLinked() from None
        return GuardianLink(id=link_id, **values)

    async def of_guardian(self, guardian_user_id: int) -> list[GuardianLink]:
        """The guardian's links, oldest first (read-only ones included)."""
        return await self._links(_links.c.guardian_user_id == guardian_user_id)

    async def of_dependant(self, dependant_user_id: int) -> list[GuardianLink]:
        return await self._links(_links.c.dependant_user_id == dependant_user_id)

    async def get(self, guardian_user_id: int, dependant_user_id: int) -> GuardianLink | None:
        found = await self._links(and_(_links.c.guardian_user_id == guardian_user_id,
                                       _links.c.dependant_user_id == dependant_user_id))
        return found[0] if found else None

    async def count_full(self, guardian_user_id: int) -> int:
        """Dependants the guardian declares for (the limit counts these)."""
        query = select(func.count()).where(_links.c.guardian_user_id == guardian_user_id,
                                           _links.c.access == FULL_ACCESS)
        return int((await self._session.execute(query)).scalar_one())

    async def make_read_only(self, dependant_user_id: int) -> list[GuardianLink]:
        """The dependant claimed their record: every guardian keeps read access only. The links, as they were."""
        before = await self.of_dependant(dependant_user_id)
        await self._session.execute(update(_links).where(_links.c.dependant_user_id == dependant_user_id)
                                    .values(access=READ_ACCESS))
        return before

    async def unlink(self, guardian_user_id: int, dependant_user_id: int) -> bool:
        result = await self._session.execute(delete(_links).where(
            _links.c.guardian_user_id == guardian_user_id, _links.c.dependant_user_id == dependant_user_id))
        return bool(rows_changed(result))

    # --- invites -----------------------------------------------------------------------------

    async def add_invite(self, code: str, dependant_user_id: int, *, created_by: int, now: datetime,
                         expires_at: datetime) -> None:
        require_aware("now", now)
        await self._session.execute(_invites.insert().values(
            code=code, dependant_user_id=dependant_user_id, created_by=created_by, created_at=now,
            expires_at=expires_at))

    async def invited(self, code: str, now: datetime) -> int | None:
        """The dependant an unused, unexpired invite is for (the invite stays unused)."""
        require_aware("now", now)
        query = select(_invites.c.dependant_user_id).where(
            _invites.c.code == code, _invites.c.used_at.is_(None), _invites.c.expires_at > now)
        found = (await self._session.execute(query)).scalar_one_or_none()
        return None if found is None else int(found)

    async def take_invite(self, code: str, *, used_by: int, now: datetime) -> int | None:
        """Use an unused, unexpired invite once; the dependant's users.id, or None."""
        require_aware("now", now)
        statement = (
            update(_invites)
            .where(_invites.c.code == code, _invites.c.used_at.is_(None), _invites.c.expires_at > now)
            .values(used_by=used_by, used_at=now)
            .returning(_invites.c.dependant_user_id)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else int(row[0])

    async def _links(self, condition: Any) -> list[GuardianLink]:
        rows = (await self._session.execute(select(_links).where(condition).order_by(_links.c.id))).all()
        return [GuardianLink(id=r.id, guardian_user_id=r.guardian_user_id, dependant_user_id=r.dependant_user_id,
                             relation=r.relation, basis=r.basis, notice_version=r.notice_version,
                             agreed_at=r.agreed_at, access=r.access, created_at=r.created_at) for r in rows]
