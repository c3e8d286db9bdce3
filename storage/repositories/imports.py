"""Imports of an authority's list: matching identifiers through blind indexes, the import record, and the
indexes kept for people who register later. Nothing is ever decrypted here.

Matching computes each listed identifier's blind index (the same keyed digest ``users`` keeps) and
looks them up in chunks (``IN`` lists of ``CHUNK``), so 50,000 rows are some fifty indexed queries
on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update

from rules.model import Colour
from storage.models import ImportPendingRow, ImportRow, ImportTargetRow, UserRow
from storage.records import ImportCounts, ImportRecord, ListedPerson, NewImport
from storage.repositories.base import Repository, require_aware, rows_changed, table_of
from storage.repositories.users import PHONE_PURPOSE, RESIDENT_ID_PURPOSE, normalise_resident_id

_imports = table_of(ImportRow)
_pending = table_of(ImportPendingRow)
_targets = table_of(ImportTargetRow)
_users = table_of(UserRow)

CHUNK = 1000  # identifiers per IN list: well inside SQLite's and asyncpg's parameter limits
DRAFT, APPLYING, CONFIRMED, CANCELLED = "draft", "applying", "confirmed", "cancelled"
DECIDED = (APPLYING, CONFIRMED)  # confirmed imports: decisions being made, or all made
KINDS = ("resident_id", "phone")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _user_column(kind: str) -> ColumnElement[Any]:
    if kind == "resident_id":
        return _users.c.resident_id_hash
    if kind == "phone":
        return _users.c.phone_hash
    raise ValueError(f"import kind: must be one of {', '.join(KINDS)}, got {kind!r}")


class ImportRepository(Repository):
    # --- matching ------------------------------------------------------------------------------

    def digests(self, kind: str, identifiers: Iterable[str]) -> list[bytes]:
        """The blind index of each normalised identifier, as ``users`` stores it."""
        _user_column(kind)
        if kind == "resident_id":
            return [self._cipher.blind_index(normalise_resident_id(value), RESIDENT_ID_PURPOSE) for value in identifiers]
        return [self._cipher.blind_index(value.strip(), PHONE_PURPOSE) for value in identifiers]

    async def registered(self, kind: str, digests: Sequence[bytes]) -> list[ListedPerson]:
        """Every registered person whose identifier of ``kind`` is among ``digests``."""
        column = _user_column(kind)
        found: list[ListedPerson] = []
        for chunk in _chunks(digests):
            query = select(_users.c.id, _users.c.region_code, column.label("digest")).where(column.in_(chunk))
            found.extend(ListedPerson(row.id, row.region_code, bytes(row.digest))
                         for row in (await self._session.execute(query)).all())
        return found

    # --- the record ------------------------------------------------------------------------------

    async def create(self, new: NewImport, counts: ImportCounts, digests: Sequence[bytes], now: datetime) -> int:
        """A dry run's record and its identifiers' digests (until it is confirmed or cancelled)."""
        require_aware("now", now)
        _user_column(new.kind)
        statement = _imports.insert().values(
            created_by=new.created_by, created_at=now, state=DRAFT, decided_at=None, kind=new.kind, scope=new.scope,
            colour=new.colour.value, days=new.days, reason_code=new.reason_code, first_day=new.first_day,
            last_day=new.last_day, file_sha256=new.file_sha256, file_bytes=new.file_bytes, rows=new.rows,
            malformed=new.malformed, duplicates=new.duplicates, late_matched=0, applied=0, **_count_values(counts),
        ).returning(_imports.c.id)
        import_id = cast(int, (await self._session.execute(statement)).scalar_one())
        for chunk in _chunks(digests, 5 * CHUNK):
            await self._session.execute(insert(_pending), [
                {"import_id": import_id, "digest": digest, "expires_on": new.last_day} for digest in chunk
            ])
        return import_id

    async def get(self, import_id: int) -> ImportRecord | None:
        row = (await self._session.execute(select(_imports).where(_imports.c.id == import_id))).first()
        return None if row is None else _record(row)

    async def by(self, created_by: int, *, limit: int = 10) -> list[ImportRecord]:
        query = select(_imports).where(_imports.c.created_by == created_by).order_by(_imports.c.id.desc()).limit(limit)
        return [_record(row) for row in (await self._session.execute(query)).all()]

    async def listed_people(self, record: ImportRecord) -> list[ListedPerson]:
        """Who the import's kept digests match now (a join on the blind index; nothing opened)."""
        column = _user_column(record.kind)
        query = (
            select(_users.c.id, _users.c.region_code, _pending.c.digest)
            .join(_pending, _pending.c.digest == column)
            .where(_pending.c.import_id == record.id)
            .order_by(_users.c.id)
        )
        return [ListedPerson(row.id, row.region_code, bytes(row.digest))
                for row in (await self._session.execute(query)).all()]

    async def confirm(self, import_id: int, counts: ImportCounts, targets: Sequence[int], now: datetime) -> bool:
        """Record the intent: the import moves to ``applying`` with the counts at confirmation and the people
        (``targets``, user ids) still to get a decision; only the digests nobody registered holds are kept
        (for a later registration). False when it was no longer a draft."""
        require_aware("now", now)
        statement = (
            update(_imports).where(_imports.c.id == import_id, _imports.c.state == DRAFT)
            .values(state=APPLYING, decided_at=now, **_count_values(counts)).returning(_imports.c.kind)
        )
        kind = (await self._session.execute(statement)).scalar_one_or_none()
        if kind is None:
            return False
        column = _user_column(kind)
        await self._session.execute(
            delete(_pending).where(_pending.c.import_id == import_id, _pending.c.digest.in_(select(column)))
        )
        for chunk in _chunks(targets, 5 * CHUNK):
            await self._session.execute(insert(_targets), [{"import_id": import_id, "user_id": u} for u in chunk])
        return True

    # --- applying in the background ----------------------------------------------------------------

    async def next_applying(self) -> ImportRecord | None:
        """The oldest import whose decisions are being made."""
        query = select(_imports).where(_imports.c.state == APPLYING).order_by(_imports.c.id).limit(1)
        row = (await self._session.execute(query)).first()
        return None if row is None else _record(row)

    async def targets(self, import_id: int, limit: int) -> list[int]:
        """Up to ``limit`` people (user ids, ascending) the import has still to give a decision."""
        query = (select(_targets.c.user_id).where(_targets.c.import_id == import_id)
                 .order_by(_targets.c.user_id).limit(limit))
        return [row.user_id for row in (await self._session.execute(query)).all()]

    async def targets_done(self, import_id: int, user_ids: Sequence[int], *, applied: int) -> int:
        """These people were dealt with in this transaction (``applied`` of them got a decision): they are
        no longer waiting; how many were."""
        gone = 0
        for chunk in _chunks(user_ids):
            gone += rows_changed(await self._session.execute(
                delete(_targets).where(_targets.c.import_id == import_id, _targets.c.user_id.in_(chunk))
            ))
        if applied:
            await self._session.execute(
                update(_imports).where(_imports.c.id == import_id).values(applied=_imports.c.applied + applied)
            )
        return gone

    async def targets_left(self, import_id: int) -> int:
        query = select(func.count()).select_from(_targets).where(_targets.c.import_id == import_id)
        return cast(int, (await self._session.execute(query)).scalar_one())

    async def finish(self, import_id: int) -> bool:
        """``applying`` → ``confirmed`` once nobody waits; False if another run finished it first."""
        waiting = select(_targets.c.id).where(_targets.c.import_id == import_id).exists()
        statement = (
            update(_imports).where(_imports.c.id == import_id, _imports.c.state == APPLYING, ~waiting)
            .values(state=CONFIRMED).returning(_imports.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def cancel(self, import_id: int, now: datetime) -> bool:
        """Drop a dry run and every digest it kept; False when it was no longer a draft."""
        require_aware("now", now)
        statement = (
            update(_imports).where(_imports.c.id == import_id, _imports.c.state == DRAFT)
            .values(state=CANCELLED, decided_at=now).returning(_imports.c.id)
        )
        if (await self._session.execute(statement)).first() is None:
            return False
        await self._session.execute(delete(_pending).where(_pending.c.import_id == import_id))
        return True

    # --- later registrations -------------------------------------------------------------------------

    async def awaiting(self, user_id: int, today: date) -> list[ImportRecord]:
        """Confirmed imports still in their window whose kept digests match this user; oldest first."""
        matched = (
            select(_pending.c.import_id)
            .join(_users, _users.c.id == user_id)
            .where(_pending.c.expires_on >= today,
                   ((_pending.c.digest == _users.c.resident_id_hash) | (_pending.c.digest == _users.c.phone_hash)))
        )
        query = (
            select(_imports)
            .where(_imports.c.state.in_(DECIDED), _imports.c.last_day >= today, _imports.c.id.in_(matched))
            .order_by(_imports.c.id)
        )
        records = [_record(row) for row in (await self._session.execute(query)).all()]
        return [record for record in records if await self._holds(record, user_id)]

    async def _holds(self, record: ImportRecord, user_id: int) -> bool:
        """The match is on the import's own kind (a phone list never matches by resident ID)."""
        column = _user_column(record.kind)
        query = (
            select(_pending.c.id).join(_users, and_(_users.c.id == user_id, _pending.c.digest == column))
            .where(_pending.c.import_id == record.id).limit(1)
        )
        return (await self._session.execute(query)).first() is not None

    async def settle(self, import_id: int, user_id: int, *, matched: bool) -> None:
        """The person registered: their digest goes either way; counted when a decision was recorded."""
        user = select(_users.c.resident_id_hash, _users.c.phone_hash).where(_users.c.id == user_id).subquery()
        await self._session.execute(
            delete(_pending).where(_pending.c.import_id == import_id,
                                   _pending.c.digest.in_(select(user.c.resident_id_hash).union(select(user.c.phone_hash))))
        )
        if matched:
            await self._session.execute(
                update(_imports).where(_imports.c.id == import_id).values(late_matched=_imports.c.late_matched + 1)
            )

    # --- retention -------------------------------------------------------------------------------------

    async def purge(self, today: date, now: datetime, *, drafts_before: datetime) -> int:
        """Digests past their window, and dry runs left unconfirmed since ``drafts_before``: how many digests went."""
        require_aware("now", now)
        require_aware("drafts_before", drafts_before)
        stale = select(_imports.c.id).where(_imports.c.state == DRAFT, _imports.c.created_at < drafts_before)
        stale_ids = [row.id for row in (await self._session.execute(stale)).all()]
        gone = 0
        if stale_ids:
            gone += rows_changed(await self._session.execute(delete(_pending).where(_pending.c.import_id.in_(stale_ids))))
            await self._session.execute(
                update(_imports).where(_imports.c.id.in_(stale_ids)).values(state=CANCELLED, decided_at=now)
            )
        gone += rows_changed(await self._session.execute(delete(_pending).where(_pending.c.expires_on < today)))
        return gone

    async def pending_count(self, import_id: int | None = None) -> int:
        query = select(func.count()).select_from(_pending)
        if import_id is not None:
            query = query.where(_pending.c.import_id == import_id)
        return cast(int, (await self._session.execute(query)).scalar_one())


def _count_values(counts: ImportCounts) -> dict[str, int]:
    return {"listed": counts.listed, "matched": counts.matched, "outside_scope": counts.outside_scope,
            "not_registered": counts.not_registered}


def _record(row: Any) -> ImportRecord:
    return ImportRecord(
        id=row.id, created_by=row.created_by, created_at=row.created_at, state=row.state, decided_at=row.decided_at,
        kind=row.kind, scope=row.scope, colour=Colour(row.colour), days=row.days, reason_code=row.reason_code,
        first_day=row.first_day, last_day=row.last_day, file_sha256=row.file_sha256, file_bytes=row.file_bytes,
        rows=row.rows, malformed=row.malformed, duplicates=row.duplicates,
        counts=ImportCounts(row.listed, row.matched, row.outside_scope, row.not_registered),
        late_matched=row.late_matched, applied=row.applied,
    )


__all__ = ["APPLYING", "CANCELLED", "CHUNK", "CONFIRMED", "DRAFT", "ImportRepository"]
