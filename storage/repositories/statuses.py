"""The last evaluated status of each user."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from datetime import datetime

from sqlalchemy import Executable, select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.model import Colour, Status
from storage.encryption import FieldCipher
from storage.models import StatusRow
from storage.records import StoredStatus
from storage.repositories.base import Repository, require_aware, table_of

_statuses = table_of(StatusRow)


class StatusRepository(Repository):
    def __init__(self, session: AsyncSession, cipher: FieldCipher, dialect: str) -> None:
        super().__init__(session, cipher, dialect)
        self._known: dict[int, StoredStatus | None] = {}

    def note_stored(self, user_id: int, stored: StoredStatus | None) -> None:
        """The user's stored status as the sender's load read it (same transaction): put() skips an
        upsert that would write the same values again."""
        self._known[user_id] = stored

    async def get(self, user_id: int) -> StoredStatus | None:
        row = (await self._session.execute(select(_statuses).where(_statuses.c.user_id == user_id))).first()
        return None if row is None else stored_status_from(row._mapping)

    async def put(self, user_id: int, status: Status, now: datetime) -> StoredStatus:
        """Create or replace the user's stored status. ``status.evaluated_for`` is required."""
        require_aware("now", now)
        if status.evaluated_for is None:
            raise ValueError("status.evaluated_for: required to store a status (it is None)")
        stored = StoredStatus(
            user_id=user_id,
            colour=status.colour,
            reason_code=status.reason.code,
            since=status.since,
            green_on=status.green_on,
            evaluated_for=status.evaluated_for,
            updated_at=now,
            policy_version=status.policy_version,
            policy_name=status.policy_name,
        )
        known = self._known.get(user_id)
        if known is not None and replace(known, updated_at=now) == stored:
            return known  # nothing changed: the row already says this (updated_at: when it last changed)
        values = {
            "user_id": user_id,
            "colour": stored.colour.value,
            "reason_code": stored.reason_code,
            "since": stored.since,
            "green_on": stored.green_on,
            "evaluated_for": stored.evaluated_for,
            "updated_at": now,
            "policy_version": stored.policy_version,
            "policy_name": stored.policy_name,
        }
        await self._session.execute(self._prebuilt("put", self._build_put), values)
        if user_id in self._known:
            self._known[user_id] = stored
        return stored

    def _build_put(self) -> Executable:
        statement = self._upsert_insert(_statuses)
        replaced = ("colour", "reason_code", "since", "green_on", "evaluated_for", "updated_at", "policy_version",
                    "policy_name")
        return statement.on_conflict_do_update(
            index_elements=[_statuses.c.user_id],
            set_={name: statement.excluded[name] for name in replaced},
        )


def stored_status_from(row: Mapping[Any, Any]) -> StoredStatus:
    """A StoredStatus from a mapping with the statuses table's column names."""
    return StoredStatus(
        user_id=row["user_id"],
        colour=Colour(row["colour"]),
        reason_code=row["reason_code"],
        since=row["since"],
        green_on=row["green_on"],
        evaluated_for=row["evaluated_for"],
        updated_at=row["updated_at"],
        policy_version=row["policy_version"],
        policy_name=row["policy_name"],
    )
