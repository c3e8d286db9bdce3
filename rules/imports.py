"""An authority's list of people (自动匹配核实): decoding a CSV, checking its cells, reading its rows. Pure.

A list is a table whose first row is a header. Exactly one column names what identifies a person:
resident ID numbers (``resident_id``, ``身份证号`` …) or mobile numbers (``phone``, ``手机号`` …); other
columns are read for safety checks only and then ignored. The edge hands over the decoded rows
(``decode_csv`` for CSV bytes; the XLSX reader marks formula cells with ``Formula``); this module
decides, for the whole file, whether it is acceptable at all (``ListProblem``) and, row by row,
which identifiers it names and which lines are malformed.

A whole-file problem changes nothing and says why: too many rows, no (or two) identifying columns,
text whose encoding changes half way through, and formula cells: an XLSX formula, or a CSV cell that
a spreadsheet would run as one (``= + - @``, and the tab and carriage return that can hide them).
"""
from __future__ import annotations

import codecs
import csv
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rules.regions import RegionTable
from rules.validators import ValidationError, validate_phone, validate_resident_id

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000  # data rows, the header not counted
MAX_COLUMNS = 50  # a list of people needs a handful; more is refused rather than read
MALFORMED_LISTED = 10  # malformed lines named in the summary; the rest are counted
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ListReason(StrEnum):
    """Why the people on a list get a decision: the reason code an import records (and shows the citizen)."""

    CONFIRMED_CASE = "confirmed_case"
    CLOSE_CONTACT = "close_contact"
    SECONDARY_CONTACT = "secondary_contact"
    SHARED_JOURNEY = "shared_journey"  # the same flight, train or venue as a case
    CLEARED = "cleared"  # released from isolation or quarantine


class IdentifierKind(StrEnum):
    RESIDENT_ID = "resident_id"
    PHONE = "phone"


# Header names, compared after NFKC, trimming and lower-casing (so "Phone", "手机号码 " match).
HEADERS: dict[IdentifierKind, frozenset[str]] = {
    IdentifierKind.RESIDENT_ID: frozenset({"resident_id", "resident id", "id_number", "id number", "身份证号",
                                           "身份证号码", "公民身份号码", "证件号码"}),
    IdentifierKind.PHONE: frozenset({"phone", "mobile", "mobile number", "phone number", "手机号", "手机号码",
                                     "手机", "联系电话"}),
}


@dataclass(frozen=True, slots=True)
class Formula:
    """An XLSX cell holding a formula (its text is never evaluated nor shown)."""


Cell = str | int | float | Formula | None


class ListProblem(ValueError):
    """The whole file is refused. ``code`` keys the catalogue (``imports.problem.<code>``); ``params``
    hold limits, line numbers and column letters, never a cell's content."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


@dataclass(frozen=True, slots=True)
class Malformed:
    line: int  # 1-based line (CSV) or row (XLSX) of the file, the header being line 1
    problem: str  # a validator code such as ``resident_id.checksum``, or ``imports.number_cell``
    params: tuple[tuple[str, str], ...] = ()  # the validator's limits (``length``), never the cell


@dataclass(slots=True)
class ListReading:
    """What a list names: normalised identifiers (each once), and what could not be read."""

    kind: IdentifierKind
    identifiers: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    malformed_count: int = 0
    duplicates: int = 0
    blank: int = 0
    rows: int = 0  # data rows read, blank ones included


# --- CSV text ----------------------------------------------------------------------------------


def decode_csv(content: bytes) -> list[str]:
    """The file's lines as text: UTF-8 (with or without a BOM), UTF-16 with a BOM, or GBK/GB18030.

    Each line is decoded on its own, so a file that switches encoding (a UTF-8 header over GBK rows,
    the usual result of pasting two exports together) is refused with the first line of each kind
    instead of being read as mojibake that would match nobody.
    """
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return content.decode("utf-16").splitlines()
        except UnicodeDecodeError:
            raise ListProblem("encoding_broken", line=1) from None
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8):]
    if b"\x00" in content:
        raise ListProblem("binary")
    first_utf8: int | None = None
    first_gbk: int | None = None
    lines: list[str] = []
    for number, raw in enumerate(content.splitlines(), start=1):
        if raw.isascii():
            lines.append(raw.decode("ascii"))
            continue
        try:
            lines.append(raw.decode("utf-8"))
            first_utf8 = first_utf8 or number
        except UnicodeDecodeError:
            try:
                lines.append(raw.decode("gb18030"))
            except UnicodeDecodeError:
                raise ListProblem("encoding_broken", line=number) from None
            first_gbk = first_gbk or number
        if first_utf8 is not None and first_gbk is not None:
            raise ListProblem("encoding_mixed", utf8_line=first_utf8, gbk_line=first_gbk)
    return lines


def csv_rows(lines: Sequence[str]) -> Iterator[tuple[int, list[Cell]]]:
    """(line number, cells) for each CSV record; a quoted cell spanning lines counts from its first."""
    reader = csv.reader(lines, strict=True)
    start = 1
    try:
        for record in reader:
            yield start, list(record)
            start = reader.line_num + 1
    except csv.Error:
        raise ListProblem("csv_broken", line=reader.line_num) from None


# --- the rows ----------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """A, B, …, Z, AA…: how a spreadsheet names the column, for the answers."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def is_formula(cell: Cell) -> bool:
    """An XLSX formula, or text a spreadsheet would run as one when the list is opened again."""
    if isinstance(cell, Formula):
        return True
    return isinstance(cell, str) and cell.startswith(_FORMULA_STARTS)


def identifying_column(header: Sequence[Cell]) -> tuple[int, IdentifierKind]:
    """Which column identifies people, by its header; ``ListProblem`` when none does or two do."""
    found: list[tuple[int, IdentifierKind]] = []
    for index, cell in enumerate(header):
        name = _header_name(cell)
        for kind, names in HEADERS.items():
            if name in names:
                found.append((index, kind))
    if not found:
        raise ListProblem("no_column", columns=len(header))
    if len(found) > 1:
        raise ListProblem("two_columns", first=column_letter(found[0][0]), second=column_letter(found[1][0]))
    return found[0]


def _header_name(cell: Cell) -> str:
    if not isinstance(cell, str):
        return ""
    return " ".join(unicodedata.normalize("NFKC", cell).strip().lower().split())


def read_list(rows: Iterable[tuple[int, Sequence[Cell]]], today: date, table: RegionTable) -> ListReading:
    """Read a list: its header, then every row. Raises ``ListProblem`` for a file refused as a whole."""
    iterator = iter(rows)
    header_row = next(iterator, None)
    if header_row is None:
        raise ListProblem("empty")
    header_line, header = header_row
    _refuse_formulas(header_line, header)
    if len(header) > MAX_COLUMNS:
        raise ListProblem("too_many_columns", max=MAX_COLUMNS)
    column, kind = identifying_column(header)
    reading = ListReading(kind)
    seen: set[str] = set()
    for line, cells in iterator:
        reading.rows += 1
        if reading.rows > MAX_ROWS:
            raise ListProblem("too_many_rows", max=MAX_ROWS)
        _refuse_formulas(line, cells)
        cell = cells[column] if column < len(cells) else None
        if _blank(cell):
            reading.blank += 1
            continue
        try:
            identifier = _identifier(kind, cell, today, table)
        except ValidationError as error:
            reading.malformed_count += 1
            if len(reading.malformed) < MALFORMED_LISTED:
                reading.malformed.append(Malformed(line, error.code, tuple(sorted(error.message_params.items()))))
            continue
        if identifier in seen:
            reading.duplicates += 1
            continue
        seen.add(identifier)
        reading.identifiers.append(identifier)
    if reading.rows == 0:
        raise ListProblem("no_rows")
    return reading


def _refuse_formulas(line: int, cells: Sequence[Cell]) -> None:
    for index, cell in enumerate(cells):
        if is_formula(cell):
            raise ListProblem("formula", line=line, column=column_letter(index))


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _identifier(kind: IdentifierKind, cell: Cell, today: date, table: RegionTable) -> str:
    if isinstance(cell, float) and not cell.is_integer():
        raise ValidationError(kind.value, "imports.number_cell")
    if isinstance(cell, (int, float)):
        if kind is IdentifierKind.RESIDENT_ID:
            # 18 digits do not survive a spreadsheet number (15 significant digits): never guess them.
            raise ValidationError(kind.value, "imports.number_cell")
        cell = str(int(cell))
    assert isinstance(cell, str)
    if kind is IdentifierKind.RESIDENT_ID:
        return validate_resident_id(cell, today, table).value
    return validate_phone(cell)


__all__ = [
    "Cell", "Formula", "HEADERS", "IdentifierKind", "ListProblem", "ListReason", "ListReading", "MALFORMED_LISTED", "MAX_COLUMNS",
    "MAX_FILE_BYTES", "MAX_ROWS", "Malformed", "column_letter", "csv_rows", "decode_csv", "identifying_column",
    "is_formula", "read_list",
]
