"""Personal data, declared once per column: erasure (/forget, purge) and the /mydata export read it.

A column that holds or names personal data says so in its ``info``::

    telegram_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.TELEGRAM))

and a table that holds none says why, in its ``__table_args__``::

    __table_args__ = holds_no_personal_data("anonymous counts per day and region")

Rules, checked by ``problems`` (and so by the test suite):

* every table is classified: it declares at least one column that names a person (``USER``,
  ``TELEGRAM``, ``ACTOR``) or states that it holds no personal data;
* a table whose rows are *about* a person (a ``USER`` or ``TELEGRAM`` column) declares every
  column, so a column added later cannot be left out of the export unnoticed;
* elsewhere, columns that look as if they name a person (a reference to ``users.id``, a Telegram
  id such as ``*_by`` or ``*_telegram_id``, a sealed ``*_enc`` or a ``*_hash``) must be declared.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Table

PERSONAL = "personal"  # key in Column.info
NO_PERSONAL_DATA = "no_personal_data"  # key in Table.info: why the table holds none


class Personal(StrEnum):
    # Who a row concerns. The values are the kinds erasure has always reported.
    USER = "user"  # references users.id: the row is about that person and goes with them
    TELEGRAM = "telegram"  # the Telegram account the row is about (registered or not); goes with it
    ACTOR = "actor"  # the account that did something recorded here; unlinked, the row stays for others
    REFERENCE = "reference"  # text pointing at a user ("user:<id>"); cleared on erasure, not exported
    # What a row about a person holds. Shown in the export unless it is an index or bookkeeping.
    SEALED = "sealed"  # the person's data, sealed by FieldCipher (AES-GCM); exported opened
    BLIND_INDEX = "blind_index"  # keyed digest of sealed data, for lookups; never exported
    CONTENT = "content"  # the person's data in clear
    ROW = "row"  # bookkeeping of the person's row (surrogate ids, batch ids, last changed); not exported


NAMES_A_PERSON = frozenset({Personal.USER, Personal.TELEGRAM, Personal.ACTOR})
ABOUT_A_PERSON = frozenset({Personal.USER, Personal.TELEGRAM})
EXPORTED = frozenset({Personal.SEALED, Personal.CONTENT})
_HELD = frozenset({Personal.SEALED, Personal.BLIND_INDEX, Personal.CONTENT, Personal.ROW})


def personal(kind: Personal) -> dict[str, Any]:
    """``info`` for a column holding or naming personal data (a fresh dict each time)."""
    return {PERSONAL: kind}


def holds_no_personal_data(reason: str) -> dict[str, Any]:
    """``__table_args__`` (or its last element) for a table that holds no personal data."""
    if not reason.strip():
        raise ValueError("holds_no_personal_data: say why")
    return {"info": {NO_PERSONAL_DATA: reason}}


def kind_of(column: Column[Any]) -> Personal | None:
    return column.info.get(PERSONAL)


def declared(table: Table, kinds: Iterable[Personal]) -> list[Column[Any]]:
    wanted = frozenset(kinds)
    return [column for column in table.columns if kind_of(column) in wanted]


def is_about_a_person(table: Table) -> bool:
    return bool(declared(table, ABOUT_A_PERSON))


def problems(tables: Iterable[Table]) -> list[str]:
    """Every breach of the rules above, one line each (table and column names, never data)."""
    found: list[str] = []
    for table in tables:
        found.extend(_table_problems(table))
    return found


def _table_problems(table: Table) -> list[str]:
    names_someone = bool(declared(table, NAMES_A_PERSON))
    exempt = table.info.get(NO_PERSONAL_DATA)
    if exempt and any(kind_of(c) is not None for c in table.columns):
        return [f"{table.name}: declares personal columns yet says it holds no personal data"]
    if not exempt and not names_someone:
        return [f"{table.name}: not classified: declare its personal columns or holds_no_personal_data(reason)"]
    found = [f"{table.name}.{c.name}: unknown personal kind {c.info[PERSONAL]!r}"
             for c in table.columns if PERSONAL in c.info and not isinstance(c.info[PERSONAL], Personal)]
    for column in table.columns:
        kind = kind_of(column)
        if kind is None and is_about_a_person(table):
            found.append(f"{table.name}.{column.name}: undeclared in a table about a person")
        elif kind is None and _looks_personal(column):
            found.append(f"{table.name}.{column.name}: looks personal but is undeclared")
        elif kind is Personal.USER and not _refers_to_users(column) and table.name != "users":
            found.append(f"{table.name}.{column.name}: declared USER but does not reference users.id")
        elif kind is not None and kind is not Personal.USER and _refers_to_users(column):
            found.append(f"{table.name}.{column.name}: references users.id, so it must be declared USER")
        elif kind is Personal.REFERENCE and not column.nullable:
            found.append(f"{table.name}.{column.name}: a REFERENCE is cleared on erasure, so it must be nullable")
        elif kind in _HELD and not is_about_a_person(table):
            found.append(f"{table.name}.{column.name}: personal content in a table no person's erasure deletes")
    return found


def _refers_to_users(column: Column[Any]) -> bool:
    return any(fk.column.table.name == "users" and fk.column.name == "id" for fk in column.foreign_keys)


def _looks_personal(column: Column[Any]) -> bool:
    """The naming conventions erasure once relied on, kept as a tripwire for forgotten declarations."""
    name = column.name
    if _refers_to_users(column) or name in {"telegram_id", "target"} or name.endswith(("_enc", "_hash")):
        return True
    return isinstance(column.type, BigInteger) and name.endswith(("_by", "_telegram_id", "_chat_id"))
