"""Erasing one person (/forget) or everyone (end of the epidemic).

Which rows belong to a person is read from each column's personal-data declaration
(``storage.models.personal``), so a table added later is covered once it declares its columns,
and a test refuses a table that declares nothing:

* rows *about* the person are deleted: every column declared ``USER`` (it references ``users.id``)
  or ``TELEGRAM`` (deliveries, managers, conversation state, language …);
* where the person only *acted* (a manager who read a status, whoever requested an organisation
  or recorded a decision: columns declared ``ACTOR``) the record stays for the others it
  concerns, but the person's id in it is replaced by ``ERASED_ACTOR`` (or NULL where allowed);
* text pointing at them (``REFERENCE``, an audit entry's "user:<id>") is cleared.

Tables in ``KEPT_ON_PURGE`` hold no personal data and survive ``purge_all``.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Delete, Table, Update, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Base, UserRow
from storage.models.personal import NAMES_A_PERSON, Personal, declared, kind_of
from storage.records import UserProfile
from storage.repositories.base import Repository, require_aware, rows_changed, table_of
from storage.repositories.withdrawn import WithdrawnCredentialRepository

_users = table_of(UserRow)
ERASED_ACTOR = 0  # stands in for the Telegram id of an erased person who acted on others' records
# Anonymous counts, job bookkeeping, random ids of withdrawn credentials, handled update ids.
KEPT_ON_PURGE = frozenset({"daily_counts", "scheduled_jobs", "job_runs", "withdrawn_credentials", "processed_updates"})
_ERASED = "healthcode.erased"


def _mark_erased(session: AsyncSession) -> None:
    # Read by the unit of work: once this transaction commits, SQLite checkpoints its WAL so the
    # erased rows' older page images go too (PostgreSQL needs nothing further).
    session.info[_ERASED] = True


def erased_in(session: AsyncSession) -> bool:
    """True when the session's transaction erased someone (and clears the mark)."""
    return bool(session.info.pop(_ERASED, False))


def personal_columns(tables: Iterable[Table] | None = None) -> list[tuple[Table, Column[Any], Personal]]:
    """(table, column, kind) for every column declared to name a person, children first.

    kind: ``Personal.USER`` (references users.id), ``Personal.TELEGRAM`` (the row is about that
    Telegram account) or ``Personal.ACTOR`` (that account did something recorded in the row).
    The users table itself is left out: erasure deletes its row last, by id.
    """
    found: list[tuple[Table, Column[Any], Personal]] = []
    for table in reversed(list(tables if tables is not None else Base.metadata.sorted_tables)):
        if table.name == "users":
            continue
        for column in declared(table, NAMES_A_PERSON):
            kind = kind_of(column)
            if kind is not None:  # always: declared() keeps only columns of the kinds asked for
                found.append((table, column, kind))
    return found


def reference_columns(tables: Iterable[Table] | None = None) -> list[tuple[Table, Column[Any]]]:
    """Text columns declared to point at a user ("user:<id>"): cleared, never matched by id."""
    return [(table, column) for table in (tables if tables is not None else Base.metadata.sorted_tables)
            for column in declared(table, {Personal.REFERENCE})]


class ErasureRepository(Repository):
    async def forget(self, user: UserProfile, now: datetime) -> dict[str, int]:
        """Delete every row about ``user`` and unlink them from rows about others.

        Returns rows deleted (or unlinked) per table. Unexpired credentials are first copied to
        the withdrawn list (random ids only), so the codes already shown stay refused.
        """
        require_aware("now", now)
        _mark_erased(self._session)
        await WithdrawnCredentialRepository(self._session, self._cipher, self._dialect).withdraw_unexpired(now, user.id)
        changed = await self._erase(user.telegram_id, user.id)
        changed.update(await self._clear_references(f"user:{user.id}"))
        result = await self._session.execute(delete(_users).where(_users.c.id == user.id))
        changed["users"] = rows_changed(result) or 0
        return changed

    async def forget_unregistered(self, telegram_id: int) -> dict[str, int]:
        """Someone never registered may still have a language choice, a draft, or a manager role."""
        _mark_erased(self._session)
        return await self._erase(telegram_id, None)

    async def _clear_references(self, reference: str) -> dict[str, int]:
        """Textual pointers to the user (an audit entry's ``target`` of "user:<id>"): cleared, since
        SQLite may hand the freed id to the next person who registers."""
        changed: dict[str, int] = {}
        for table, column in reference_columns():
            result = await self._session.execute(
                update(table).where(column == reference).values({column.name: None}))
            count = rows_changed(result)
            if count:
                changed[table.name] = changed.get(table.name, 0) + count
        return changed

    async def _erase(self, telegram_id: int, user_id: int | None) -> dict[str, int]:
        changed: dict[str, int] = {}
        for table, column, kind in personal_columns():
            if kind is Personal.USER and user_id is None:
                continue
            statement: Update | Delete
            if kind is Personal.ACTOR:
                replacement = None if column.nullable else ERASED_ACTOR
                statement = update(table).where(column == telegram_id).values({column.name: replacement})
            else:
                statement = delete(table).where(column == (user_id if kind is Personal.USER else telegram_id))
            result = await self._session.execute(statement)
            count = rows_changed(result)
            if count:
                changed[table.name] = changed.get(table.name, 0) + count
        return changed

    async def purge_all(self, now: datetime) -> dict[str, int]:
        """Delete every row of every table holding personal data; return rows deleted per table."""
        require_aware("now", now)
        _mark_erased(self._session)
        await WithdrawnCredentialRepository(self._session, self._cipher, self._dialect).withdraw_unexpired(now)
        deleted: dict[str, int] = {}
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in KEPT_ON_PURGE:
                continue
            count = (await self._session.execute(select(func.count()).select_from(table))).scalar_one()
            if count:
                await self._session.execute(delete(table))
            deleted[table.name] = count
        return deleted
