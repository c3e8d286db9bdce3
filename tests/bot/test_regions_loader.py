"""bot.regions reads the packaged region table once and hands it to rules; start-up refuses a broken one."""
from __future__ import annotations

import pytest

from bot import bootstrap, regions
from rules.regions import RegionDataError, RegionTable


def test_the_packaged_table_is_read_once_and_shared() -> None:
    table = regions.region_table()
    assert isinstance(table, RegionTable) and table is regions.region_table()
    assert len(table) == 34 + 337 + 2846


def test_the_shorthands_answer_from_that_table() -> None:
    assert regions.get("330106").name_en == "Xihu District"
    assert regions.get("330100").level == "city"
    assert len(regions.provinces()) == 34 and len(regions.cities_of("33")) == 11
    assert regions.is_province_prefix("33") and not regions.is_province_prefix("39")


def test_a_broken_table_stops_start_up_naming_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> RegionTable:
        raise RegionDataError("gb2260.tsv:7: code must be six ASCII digits")

    monkeypatch.setattr(bootstrap, "region_table", broken)
    with pytest.raises(bootstrap.StartupError, match=r"gb2260.tsv.*gb2260.tsv:7: code must be six ASCII digits"):
        bootstrap.load_regions()
