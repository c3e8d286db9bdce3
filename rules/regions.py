"""GB/T 2260 administrative-division codes: provinces and prefecture-level cities.

The table ships as package data (``rules/data/gb2260.tsv``, see ``rules/data/SOURCE.md``) and is
read once, lazily, on first use. Reading our own package data is the only I/O in ``rules``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Level = Literal["province", "city"]

_DATA_PACKAGE = "rules"
_DATA_FILE = "data/gb2260.tsv"
_HEADER = ("code", "name_zh", "name_en")


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # six digits, e.g. "330100"
    name_zh: str
    name_en: str
    level: Level

    @property
    def province_prefix(self) -> str:
        """The two leading digits shared by a province and all its cities."""
        return self.code[:2]


class RegionDataError(RuntimeError):
    """The packaged region table is malformed (a packaging bug, never user input)."""


def get(code: str) -> Region | None:
    """The region with exactly this six-digit code, or None."""
    return _table().by_code.get(code)


def provinces() -> list[Region]:
    """All provincial-level divisions, ordered by code."""
    return list(_table().provinces)


def cities_of(province_code: str) -> list[Region]:
    """The prefecture-level divisions of a province, ordered by code.

    Accepts the two-digit prefix ("33") or the province's own code ("330000"). Unknown provinces and
    provinces without cities in the table (71, 81, 82) give an empty list.
    """
    prefix = province_code[:2] if _is_province_code(province_code) else province_code
    return list(_table().cities.get(prefix, ()))


def is_province_prefix(two_digits: str) -> bool:
    """True when ``two_digits`` is the code prefix of a provincial-level division (e.g. "33")."""
    return len(two_digits) == 2 and two_digits in _table().province_prefixes


def _is_province_code(code: str) -> bool:
    return len(code) == 6 and code.endswith("0000")


@dataclass(frozen=True, slots=True)
class _Table:
    by_code: dict[str, Region]
    provinces: tuple[Region, ...]
    cities: dict[str, tuple[Region, ...]]
    province_prefixes: frozenset[str]


@cache
def _table() -> _Table:
    text = resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return _build_table(parse_region_rows(text))


def parse_region_rows(text: str) -> list[Region]:
    """Parse the TSV text into regions, refusing anything malformed.

    Public so the data file's integrity can be tested without going through the cache.
    """
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != _HEADER:
        raise RegionDataError(f"{_DATA_FILE}: first line must be the header {_HEADER}")
    regions: list[Region] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() == f and f for f in fields):
            raise RegionDataError(f"{_DATA_FILE}:{number}: expected three non-empty tab-separated fields")
        code, name_zh, name_en = fields
        if len(code) != 6 or not code.isascii() or not code.isdigit() or not code.endswith("00"):
            raise RegionDataError(f"{_DATA_FILE}:{number}: code must be six digits ending in 00")
        level: Level = "province" if code.endswith("0000") else "city"
        regions.append(Region(code, name_zh, name_en, level))
    return regions


def _build_table(regions: list[Region]) -> _Table:
    by_code: dict[str, Region] = {}
    for region in regions:
        if region.code in by_code:
            raise RegionDataError(f"{_DATA_FILE}: duplicate code {region.code}")
        by_code[region.code] = region
    province_list = tuple(sorted((r for r in regions if r.level == "province"), key=lambda r: r.code))
    prefixes = frozenset(r.province_prefix for r in province_list)
    cities: dict[str, list[Region]] = {}
    for region in sorted(regions, key=lambda r: r.code):
        if region.level != "city":
            continue
        if region.province_prefix not in prefixes:
            raise RegionDataError(f"{_DATA_FILE}: city {region.code} has no province")
        cities.setdefault(region.province_prefix, []).append(region)
    return _Table(
        by_code=by_code,
        provinces=province_list,
        cities={prefix: tuple(items) for prefix, items in cities.items()},
        province_prefixes=prefixes,
    )
