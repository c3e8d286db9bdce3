"""GB/T 2260 administrative divisions: provinces, prefecture-level cities and county-level divisions.

Pure: ``parse_region_table`` turns the text of the packaged table (``rules/data/gb2260.tsv``, see
``rules/data/SOURCE.md``) into a ``RegionTable``; reading the file is the caller's job (``bot.regions``).

The hierarchy is province → city → county, with two exceptions the codes themselves show:
- a county whose code has ``90`` in digits 3–4 (``429004`` Xiantao, ``469001`` Wuzhishan,
  ``659001`` Shihezi …) is administered directly by its province and has no city;
- in a municipality, whose single "city" row (``110100``, ``500100`` …) stands for the whole
  municipality, every county belongs to that city, even Chongqing's ``5002xx`` counties, whose
  digits 3–4 are not ``01``.
A city may have no counties at all (Dongguan ``441900``, Zhongshan ``442000``, Danzhou ``460400``,
Jiayuguan ``620200``): it is then the most precise region there is.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Level = Literal["province", "city", "county"]

_FILE = "gb2260.tsv"
_HEADER = ("code", "name_zh", "name_en")
_DIRECTLY_ADMINISTERED = "90"  # digits 3–4 of counties under a province (省直辖县级行政区划)


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # six ASCII digits, e.g. "330100"
    name_zh: str
    name_en: str
    level: Level

    def name_in(self, language: str) -> str:
        """The name in the catalogue's ``language`` (``zh-CN`` or ``en``)."""
        return self.name_zh if language == "zh-CN" else self.name_en

    @property
    def province_prefix(self) -> str:
        """The two leading digits shared by a province and everything in it."""
        return self.code[:2]


class RegionDataError(RuntimeError):
    """The packaged region table is malformed (a packaging bug, never user input)."""


def level_of_code(code: str) -> Level:
    """The level a six-digit code denotes: ``XX0000`` a province, ``XXYY00`` a city, else a county."""
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


class RegionTable:
    """The divisions and their hierarchy. Immutable; every list returned is a fresh copy."""

    def __init__(self, regions: Iterable[Region]) -> None:
        ordered = sorted(regions, key=lambda r: r.code)
        self._by_code: dict[str, Region] = {}
        for region in ordered:
            if region.code in self._by_code:
                raise RegionDataError(f"{_FILE}: duplicate code {region.code}")
            if region.level != level_of_code(region.code):
                raise RegionDataError(f"{_FILE}: {region.code} is not a {region.level} code")
            self._by_code[region.code] = region
        self._provinces = tuple(r for r in ordered if r.level == "province")
        self._prefixes = frozenset(r.province_prefix for r in self._provinces)
        self._parent: dict[str, Region] = {}
        self._children: dict[str, list[Region]] = {r.code: [] for r in ordered}
        for level in ("city", "county"):  # every city is known before a county looks for its own
            for region in (r for r in ordered if r.level == level):
                parent = self._find_parent(region)
                self._parent[region.code] = parent
                self._children[parent.code].append(region)
        for children in self._children.values():
            children.sort(key=lambda r: r.code)

    def _find_parent(self, region: Region) -> Region:
        province = self._by_code.get(region.province_prefix + "0000")
        if province is None:
            raise RegionDataError(f"{_FILE}: {region.level} {region.code} has no province")
        if region.level == "city":
            return province
        city = self._by_code.get(region.code[:4] + "00")
        if city is not None:
            return city
        if region.code[2:4] == _DIRECTLY_ADMINISTERED:
            return province
        cities = [c for c in self._children[province.code] if c.level == "city"]
        if len(cities) == 1:  # a municipality: its one city row stands for all of it
            return cities[0]
        raise RegionDataError(f"{_FILE}: county {region.code} has no city")

    # --- lookups --------------------------------------------------------------------------------

    def get(self, code: str) -> Region | None:
        """The region with exactly this six-digit code, or None."""
        return self._by_code.get(code)

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Region]:
        """Every region, ordered by code."""
        return iter(tuple(self._by_code.values()))

    def provinces(self) -> list[Region]:
        """All provincial-level divisions, ordered by code."""
        return list(self._provinces)

    def is_province_prefix(self, two_digits: str) -> bool:
        """True when ``two_digits`` is the code prefix of a provincial-level division (e.g. "33")."""
        return len(two_digits) == 2 and two_digits in self._prefixes

    def cities_of(self, province_code: str) -> list[Region]:
        """The prefecture-level divisions of a province, ordered by code.

        Accepts the two-digit prefix ("33") or the province's own code ("330000"). Unknown provinces and
        provinces without cities in the table (71, 81, 82) give an empty list. Counties administered by
        the province directly are not cities: see ``children_of``.
        """
        code = province_code + "0000" if len(province_code) == 2 else province_code
        if level_of_code(code) != "province":
            return []
        return [r for r in self._children.get(code, ()) if r.level == "city"]

    def children_of(self, code: str) -> list[Region]:
        """The divisions one level down, ordered by code: a province's cities and the counties it
        administers directly, a city's counties; nothing for a county or an unknown code."""
        return list(self._children.get(code, ()))

    def counties_of(self, code: str) -> list[Region]:
        """The county-level divisions directly under a city, or directly under a province."""
        return [r for r in self._children.get(code, ()) if r.level == "county"]

    def parent_of(self, code: str) -> Region | None:
        """The division one level up: a county's city (or its province when it has none), a city's
        province; None for a province or an unknown code."""
        return self._parent.get(code)

    def province_of(self, code: str) -> Region | None:
        """The province a region lies in (a province is its own); None for an unknown code."""
        return self._by_code.get(code[:2] + "0000") if code in self._by_code else None

    def city_of(self, code: str) -> Region | None:
        """The city a region lies in (a city is its own); None for a province, a county administered
        directly by its province, or an unknown code."""
        region = self._by_code.get(code)
        while region is not None and region.level == "county":
            region = self._parent.get(region.code)
        return region if region is not None and region.level == "city" else None

    def path(self, code: str) -> list[Region]:
        """The region and its ancestors from the top: [province, city, county], as far as they exist."""
        chain: list[Region] = []
        region = self._by_code.get(code)
        while region is not None:
            chain.insert(0, region)
            region = self._parent.get(region.code)
        return chain

    def lies_within(self, code: str, area_code: str) -> bool:
        """True when the region ``code`` is ``area_code`` or lies inside it (by the hierarchy, not by
        code prefix: Chongqing's ``500229`` lies within ``500100``)."""
        return any(region.code == area_code for region in self.path(code))


def parse_region_rows(text: str) -> list[Region]:
    """Parse the TSV text into regions, refusing anything malformed."""
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != _HEADER:
        raise RegionDataError(f"{_FILE}: first line must be the header {_HEADER}")
    regions: list[Region] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() == f and f for f in fields):
            raise RegionDataError(f"{_FILE}:{number}: expected three non-empty tab-separated fields")
        code, name_zh, name_en = fields
        if len(code) != 6 or not code.isascii() or not code.isdigit() or code[:2] == "00":
            raise RegionDataError(f"{_FILE}:{number}: code must be six ASCII digits")
        regions.append(Region(code, name_zh, name_en, level_of_code(code)))
    return regions


def parse_region_table(text: str) -> RegionTable:
    """The table from the TSV text: rows checked one by one, then the hierarchy checked as a whole."""
    return RegionTable(parse_region_rows(text))
