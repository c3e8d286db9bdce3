"""Reading an authority's list file (CSV or XLSX) into rows for ``rules.imports``.

The bytes were downloaded, size-capped, before the unit of work opened (``bot.services.checkpoint.receive``
downloads every document a feature takes). What kind of file it is comes from its content, never its
name: an XLSX is a ZIP archive. A ZIP is checked before openpyxl opens it (its declared uncompressed
size, so a small file cannot unpack into gigabytes), then read in read-only mode, one row at a time,
never evaluating a formula: a formula cell is handed on as ``Formula`` and refuses the file.
"""
from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from rules.imports import MAX_COLUMNS, MAX_FILE_BYTES, MAX_ROWS, Cell, Formula, ListProblem, csv_rows, decode_csv

_ZIP_MAGIC = b"PK\x03\x04"
MAX_UNPACKED_BYTES = 20 * MAX_FILE_BYTES  # 100,000 rows of a few columns unpack to far less


@dataclass(frozen=True, slots=True)
class ListFile:
    """The rows of a received list and the SHA-256 of its bytes (kept in the import record)."""

    rows: list[tuple[int, list[Cell]]]
    sha256: str
    size: int


def read_list_file(content: bytes) -> ListFile:
    """The file's rows; ``ListProblem`` when it cannot be read as a list at all. Blocking (call it
    in a worker thread for a big file)."""
    if len(content) > MAX_FILE_BYTES:
        raise ListProblem("too_large", max_mb=MAX_FILE_BYTES // (1024 * 1024))
    if not content.strip():
        raise ListProblem("empty")
    digest = hashlib.sha256(content).hexdigest()
    if content.startswith(_ZIP_MAGIC):
        rows = list(_xlsx_rows(content))
    else:
        rows = list(_limited(csv_rows(decode_csv(content))))
    return ListFile(rows, digest, len(content))


def _limited(rows: Iterator[tuple[int, list[Cell]]]) -> Iterator[tuple[int, list[Cell]]]:
    """Stop reading one row past the limit (the header and MAX_ROWS data rows): ``read_list`` refuses it."""
    for count, row in enumerate(rows):
        yield row
        if count > MAX_ROWS:
            return


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Cell]]]:
    _check_archive(content)
    import openpyxl  # imported on first use: most processes never read a spreadsheet

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a damaged archive
        raise ListProblem("xlsx_broken") from error
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ListProblem("empty")
        rows = sheet.iter_rows(max_col=MAX_COLUMNS + 1)
        for count, row in enumerate(rows):
            cells = [_cell(cell) for cell in row]
            line = getattr(row[0], "row", None) if row else None
            yield (line or count + 1), _trimmed(cells)
            if count > MAX_ROWS:
                return
    except ListProblem:
        raise
    except Exception as error:  # noqa: BLE001 - a sheet whose XML is damaged half way
        raise ListProblem("xlsx_broken") from error
    finally:
        workbook.close()


def _check_archive(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise ListProblem("xlsx_broken") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise ListProblem("too_large", max_mb=MAX_FILE_BYTES // (1024 * 1024))
    if "xl/workbook.xml" not in names:
        raise ListProblem("not_a_list")


def _cell(cell: object) -> Cell:
    if getattr(cell, "data_type", None) == "f":
        return Formula()
    value = getattr(cell, "value", None)
    if value is None or isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value  # type: ignore[return-value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _trimmed(cells: list[Cell]) -> list[Cell]:
    """Without the empty cells a spreadsheet pads a row with on the right."""
    while cells and cells[-1] is None:
        cells.pop()
    return cells


__all__ = ["ListFile", "MAX_UNPACKED_BYTES", "read_list_file"]
