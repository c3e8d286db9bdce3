"""Appointed administrators and their invitations.

Scopes are six-digit region codes kept in clear, so "who holds a role over this region" and "who is
under this scope" are plain ``IN (...)`` filters over the codes the caller's scope covers (worked out
from the region table by ``rules.authority.codes_within``; ``None`` means unrestricted).
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from rules.authority import Role
from storage.models import AdministratorInviteRow, AdministratorRow
from storage.records import AdministratorInvite, AdministratorRecord
from storage.repositories.base import Repository, RowsSelect, require_aware, table_of

_admins = table_of(AdministratorRow)
_invites = table_of(AdministratorInviteRow)
INVITE_PURPOSE = "administrator_invites.code"


class AdministratorRepository(Repository):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._known_without: set[int] = set()  # Telegram ids the sender's load found no appointment for

    def note_none(self, telegram_id: int) -> None:
        """The sender's load found no appointment of theirs, live or revoked (same transaction): held_by needs
        no query."""
        self._known_without.add(telegram_id)

    # --- appointments ----------------------------------------------------------------------------

    async def appoint(self, telegram_id: int, role: Role, scope: str, *, by: int, now: datetime) -> AdministratorRecord:
        """Record an appointment; an identical live one is returned instead of a second row."""
        require_aware("now", now)
        self._known_without.discard(telegram_id)
        existing = await self._first(self._live().where(_admins.c.telegram_id == telegram_id,
                                                        _admins.c.role == role.value, _admins.c.scope == scope))
        if existing is not None:
            return existing
        statement = (
            _admins.insert()
            .values(telegram_id=telegram_id, role=role.value, scope=scope, appointed_by=by, appointed_at=now)
            .returning(_admins.c.id)
        )
        appointment_id = (await self._session.execute(statement)).scalar_one()
        return AdministratorRecord(appointment_id, telegram_id, role, scope, by, now)

    async def get(self, appointment_id: int) -> AdministratorRecord | None:
        return await self._first(select(_admins).where(_admins.c.id == appointment_id))

    async def held_by(self, telegram_id: int) -> list[AdministratorRecord]:
        """The person's live appointments."""
        if telegram_id in self._known_without:
            return []
        return await self._all(self._live().where(_admins.c.telegram_id == telegram_id).order_by(_admins.c.id))

    async def holding(self, role: Role, within: Collection[str] | None) -> list[AdministratorRecord]:
        """Live appointments of ``role`` whose scope is one of ``within`` (every scope when None)."""
        query = self._live().where(_admins.c.role == role.value)
        return await self._all(self._scoped(query, within).order_by(_admins.c.id))

    async def under(self, within: Collection[str] | None) -> list[AdministratorRecord]:
        """Live appointments over any of the scopes ``within`` (all when None), by scope then id."""
        return await self._all(self._scoped(self._live(), within).order_by(_admins.c.scope, _admins.c.id))

    async def revoke(self, appointment_id: int, *, by: int, now: datetime) -> bool:
        """End a live appointment; False if unknown or already revoked."""
        require_aware("now", now)
        statement = (
            update(_admins)
            .where(_admins.c.id == appointment_id, _admins.c.revoked_at.is_(None))
            .values(revoked_at=now, revoked_by=by)
            .returning(_admins.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    # --- invitations -----------------------------------------------------------------------------

    async def create_invite(self, code: str, role: Role, scope: str, *, by: int, now: datetime,
                            expires_at: datetime) -> None:
        require_aware("now", now)
        require_aware("expires_at", expires_at)
        await self._session.execute(
            _invites.insert().values(code_digest=self._digest(code), role=role.value, scope=scope, created_by=by,
                                     created_at=now, expires_at=expires_at)
        )

    async def pending_invite(self, code: str, now: datetime) -> AdministratorInvite | None:
        """The invitation ``code`` names while it can still be accepted (unused, unexpired)."""
        require_aware("now", now)
        query = select(_invites).where(_invites.c.code_digest == self._digest(code), _invites.c.used_by.is_(None),
                                       _invites.c.expires_at > now)
        row = (await self._session.execute(query)).first()
        return None if row is None else _invite(row)

    async def redeem_invite(self, code: str, telegram_id: int, now: datetime) -> AdministratorInvite | None:
        """Use an invitation once (one UPDATE, so two acceptances cannot both win); None if unknown,
        used or expired."""
        require_aware("now", now)
        statement = (
            update(_invites)
            .where(_invites.c.code_digest == self._digest(code), _invites.c.used_by.is_(None),
                   _invites.c.expires_at > now)
            .values(used_by=telegram_id, used_at=now)
            .returning(_invites.c.role, _invites.c.scope, _invites.c.created_by, _invites.c.expires_at)
        )
        row = (await self._session.execute(statement)).first()
        return None if row is None else _invite(row)

    # --- plumbing --------------------------------------------------------------------------------

    def _digest(self, code: str) -> bytes:
        return self._cipher.blind_index(code, INVITE_PURPOSE)

    @staticmethod
    def _live() -> RowsSelect:
        return select(_admins).where(_admins.c.revoked_at.is_(None))

    @staticmethod
    def _scoped(query: RowsSelect, within: Collection[str] | None) -> RowsSelect:
        if within is None:
            return query
        return query.where(_admins.c.scope.in_(sorted(within)))

    async def _first(self, query: Any) -> AdministratorRecord | None:
        row = (await self._session.execute(query)).first()
        return None if row is None else _record(row)

    async def _all(self, query: Any) -> list[AdministratorRecord]:
        return [_record(row) for row in (await self._session.execute(query)).all()]


def _record(row: Any) -> AdministratorRecord:
    return AdministratorRecord(row.id, row.telegram_id, Role(row.role), row.scope, row.appointed_by, row.appointed_at,
                               row.revoked_at)


def _invite(row: Any) -> AdministratorInvite:
    return AdministratorInvite(Role(row.role), row.scope, row.created_by, row.expires_at)


__all__ = ["AdministratorRepository", "INVITE_PURPOSE"]
