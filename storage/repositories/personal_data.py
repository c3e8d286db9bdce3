"""Everything stored about one person, read for their data export (/mydata)."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from rules.model import Answers
from storage.models import CredentialRow, DeclarationRow, MembershipRow, OrganisationRow
from storage.records import CredentialRecord, UserProfile
from storage.repositories.base import Repository, table_of
from storage.repositories.credentials import _record as credential_record
from storage.repositories.declarations import _context as declaration_context

_declarations = table_of(DeclarationRow)
_credentials = table_of(CredentialRow)
_memberships = table_of(MembershipRow)
_organisations = table_of(OrganisationRow)


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    day: date
    answers: Answers
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    organisation: str
    joined_at: datetime
    left_at: datetime | None
    consent_version: str


class PersonalDataRepository(Repository):
    async def declarations(self, user_id: int) -> list[StoredDeclaration]:
        query = select(_declarations).where(_declarations.c.user_id == user_id).order_by(_declarations.c.day)
        return [
            StoredDeclaration(
                day=row.day,
                answers=Answers.from_json(self._open_json(row.answers_enc, declaration_context(user_id, row.day))),
                revision=row.revision,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in (await self._session.execute(query)).all()
        ]

    async def credentials(self, user_id: int) -> list[CredentialRecord]:
        query = select(_credentials).where(_credentials.c.user_id == user_id).order_by(_credentials.c.issued_at)
        return [credential_record(row) for row in (await self._session.execute(query)).all()]

    async def memberships(self, user_id: int) -> list[MembershipRecord]:
        """Every organisation joined, including those left (with when)."""
        query = (
            select(_organisations.c.name, _memberships.c.joined_at, _memberships.c.left_at,
                   _memberships.c.consent_version)
            .join(_organisations, _organisations.c.id == _memberships.c.organisation_id)
            .where(_memberships.c.user_id == user_id)
            .order_by(_memberships.c.joined_at)
        )
        return [MembershipRecord(*row) for row in (await self._session.execute(query)).all()]

    async def rows_elsewhere(self, telegram_id: int, user_id: int | None,
                             skip: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """Raw rows about a person in every personal table except ``skip``, by table name.

        ``user_id`` is None for someone never registered (a manager need not be a citizen). Tables
        are found through the schema (see ``erasure.personal_columns``), so one added by a later
        feature is included without changes here.
        """
        from storage.repositories.erasure import personal_columns

        found: dict[str, list[dict[str, Any]]] = {}
        for table, column, kind in personal_columns():
            if table.name in skip or (kind == "user" and user_id is None):
                continue
            value = user_id if kind == "user" else telegram_id
            rows = (await self._session.execute(select(table).where(column == value))).mappings().all()
            if rows:
                found.setdefault(table.name, []).extend(dict(row) for row in rows)
        return found
