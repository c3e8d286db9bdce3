"""The GB/T 2260 region table, read from the packaged data file once and handed to ``rules``.

Reading the file happens here, at the edge; ``rules.regions`` only parses text. Start-up loads the
table (``bootstrap``) so a broken file stops the bot before the first update. The module-level
shorthands keep call sites reading ``regions.get(code)``; anything else goes through ``region_table()``.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from rules.regions import Region, RegionDataError, RegionTable, parse_region_table

__all__ = ["Region", "RegionDataError", "RegionTable", "cities_of", "get", "is_province_prefix", "name_in", "provinces",
           "region_table"]

DATA_PACKAGE, DATA_FILE = "rules", "data/gb2260.tsv"


@cache
def region_table() -> RegionTable:
    """The packaged table (provinces, cities, counties), parsed on first use and then shared."""
    text = resources.files(DATA_PACKAGE).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_region_table(text)


def get(code: str) -> Region | None:
    return region_table().get(code)


def name_in(code: str, language: str, *, unknown: str | None = None) -> str:
    """The region's name in ``language``; for a code the table lacks, ``unknown`` (default: the code)."""
    region = region_table().get(code)
    if region is None:
        return code if unknown is None else unknown
    return region.name_in(language)


def provinces() -> list[Region]:
    return region_table().provinces()


def cities_of(province_code: str) -> list[Region]:
    return region_table().cities_of(province_code)


def is_province_prefix(two_digits: str) -> bool:
    return region_table().is_province_prefix(two_digits)
