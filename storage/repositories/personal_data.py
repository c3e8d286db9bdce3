"""Everything stored about one person, read for their data export (/mydata).

The export's own sections explain some tables (``explained``: table -> the columns they show);
every other row that names the person is exported raw. ``coverage_gaps`` checks both against the
personal-data declarations (``storage.models.personal``), and erasure against them too.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Table, select

from storage.models import Base
from storage.models.personal import (
    ABOUT_A_PERSON,
    EXPORTED,
    NAMES_A_PERSON,
    Personal,
    is_about_a_person,
    kind_of,
    problems,
)
from storage.repositories.base import Repository
from storage.repositories.erasure import personal_columns, reference_columns


class PersonalDataRepository(Repository):
    async def rows_elsewhere(self, telegram_id: int, user_id: int | None,
                             explained: Collection[str]) -> dict[str, list[dict[str, Any]]]:
        """Raw rows naming a person that the ``explained`` tables' sections do not show, by section.

        ``user_id`` is None for someone never registered (a manager need not be a citizen). A
        section is named after its table; rows of an explained table in which the person only
        acted (a manager's reads of others) come under "<table>.<column>". Columns come from the
        declarations, so a table added by a later feature is included without changes here.
        """
        found: dict[str, list[dict[str, Any]]] = {}
        for table, column, kind in raw_export_columns(explained):
            if kind is Personal.USER and user_id is None:
                continue
            value = user_id if kind is Personal.USER else telegram_id
            rows = (await self._session.execute(select(table).where(column == value))).mappings().all()
            section = found.setdefault(_section_name(table, column, explained), [])
            section.extend(row for row in map(dict, rows) if row not in section)  # one row, several columns
        return {name: rows for name, rows in found.items() if rows}


def _section_name(table: Table, column: Column[Any], explained: Collection[str]) -> str:
    return f"{table.name}.{column.name}" if table.name in explained else table.name


def raw_export_columns(explained: Collection[str],
                       tables: Iterable[Table] | None = None) -> list[tuple[Table, Column[Any], Personal]]:
    """The columns ``rows_elsewhere`` matches: all that name a person, except the key of a table
    whose rows about the person a section already shows."""
    return [(table, column, kind) for table, column, kind in personal_columns(tables)
            if not (table.name in explained and kind in ABOUT_A_PERSON)]


def coverage_gaps(explained: Mapping[str, Collection[str]], tables: Iterable[Table] | None = None) -> list[str]:
    """Every personal column that the declarations, erasure or the export leave uncovered.

    ``explained`` is what the export's sections show: table name -> the columns shown (a column
    counts as shown if the section carries its value in any form, an organisation id as its name).
    """
    tables = list(tables if tables is not None else Base.metadata.sorted_tables)
    gaps = problems(tables)
    erased = {(t.name, c.name) for t, c, _ in personal_columns(tables)} | {
        (t.name, c.name) for t, c in reference_columns(tables)}
    raw = {(t.name, c.name) for t, c, _ in raw_export_columns(explained, tables)}
    by_name = {table.name: table for table in tables}
    gaps += [f"export explains {name}, which is no table" for name in explained if name not in by_name]
    for table in tables:
        shown = explained.get(table.name)
        for column in table.columns:
            kind, where = kind_of(column), f"{table.name}.{column.name}"
            if kind in NAMES_A_PERSON and table.name != "users" and (table.name, column.name) not in erased:
                gaps.append(f"{where}: names a person but erasure does not match it")
            if kind is Personal.REFERENCE and (table.name, column.name) not in erased:
                gaps.append(f"{where}: points at a user but erasure does not clear it")
            if kind in NAMES_A_PERSON and not (table.name, column.name) in raw and not (
                    shown is not None and kind in ABOUT_A_PERSON):
                gaps.append(f"{where}: names a person but no export section shows its rows")
            if shown is not None and kind in EXPORTED and column.name not in shown:
                gaps.append(f"{where}: declared {kind.name} but the {table.name} section leaves it out")
            if shown is None and kind is Personal.SEALED and is_about_a_person(table):
                gaps.append(f"{where}: sealed, so raw rows cannot show it; the export needs a section")
        if shown is not None:
            gaps += [f"export shows {table.name}.{name}, which is no column" for name in shown if name not in table.c]
            if not is_about_a_person(table):
                gaps.append(f"export explains {table.name}, which holds no rows about a person")
    return gaps
