"""Shared plumbing for repositories."""
from __future__ import annotations

import json
from datetime import datetime
from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias, Unpack

from sqlalchemy import CursorResult, Executable, Result, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher

# A SELECT of several columns whose rows are read by name: Core table columns carry no Python
# types, so SQLAlchemy can only type such a row as a tuple of Any.
RowsSelect: TypeAlias = Select[Unpack[tuple[Any, ...]]]


class Repository:
    """Holds the unit of work's session, the field cipher and the dialect name."""

    # Hot-path statements, built once per dialect: building one costs several times running it.
    _prebuilt_statements: ClassVar[dict[tuple[str, str], Executable]] = {}

    def __init__(self, session: AsyncSession, cipher: FieldCipher, dialect: str) -> None:
        self._session = session
        self._cipher = cipher
        self._dialect = dialect

    def _prebuilt(self, name: str, build: Callable[[], Executable]) -> Executable:
        """The statement ``build`` makes for this dialect, made once; values go in as parameters."""
        key = (self._dialect, f"{type(self).__qualname__}.{name}")
        statement = Repository._prebuilt_statements.get(key)
        if statement is None:
            statement = Repository._prebuilt_statements[key] = build()
        return statement

    def _upsert_insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """An INSERT that supports ``on_conflict_do_*`` for the current dialect."""
        if self._dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def _seal_json(self, value: Any, context: bytes) -> bytes:
        return self._cipher.seal(dump_json(value), context)

    def _open_json(self, blob: bytes, context: bytes) -> Any:
        return json.loads(self._cipher.open(blob, context))


def require_aware(field: str, value: datetime | None) -> None:
    """Refuse naive datetimes at the repository boundary with an error naming the field."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{field}: expected datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime refused; pass a timezone-aware value")


def rows_changed(result: Result[Unpack[tuple[Any, ...]]]) -> int:
    """The driver's count of rows an INSERT, UPDATE or DELETE matched (may be -1 when unknown).

    The session types every execute() as a plain ``Result``; a data-changing statement without
    RETURNING yields a ``CursorResult``, the one that carries ``rowcount``.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"rows_changed: expected the result of INSERT, UPDATE or DELETE, got {type(result).__name__}")
    return result.rowcount


def dump_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def table_of(model: Any) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # declarative models always map a Table
    return table
