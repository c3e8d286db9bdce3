"""The GB/T 2260 table: completeness, known codes, API behaviour and data-file integrity."""
from __future__ import annotations

from importlib import resources

import pytest

from rules import regions
from rules.regions import Region, RegionDataError, parse_region_rows

TSV = resources.files("rules").joinpath("data/gb2260.tsv").read_text(encoding="utf-8")
MUNICIPALITIES = {"11": "110100", "12": "120100", "31": "310100", "50": "500100"}
NO_CITIES = {"71", "81", "82"}


def test_all_34_provincial_divisions() -> None:
    provinces = regions.provinces()
    assert len(provinces) == 34
    assert [p.code for p in provinces] == sorted(p.code for p in provinces)
    assert all(p.level == "province" and p.code.endswith("0000") for p in provinces)
    assert {p.province_prefix for p in provinces} == {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82",
    }  # fmt: skip


def test_333_prefecture_level_divisions_plus_four_municipality_entries() -> None:
    cities = [c for p in regions.provinces() for c in regions.cities_of(p.code)]
    assert len(cities) == 337
    assert len([c for c in cities if c.code not in MUNICIPALITIES.values()]) == 333


@pytest.mark.parametrize(
    ("prefix", "count"),
    [
        ("13", 11), ("14", 11), ("15", 12), ("21", 14), ("22", 9), ("23", 13), ("32", 13), ("33", 11),
        ("34", 16), ("35", 9), ("36", 11), ("37", 16), ("41", 17), ("42", 13), ("43", 14), ("44", 21),
        ("45", 14), ("46", 4), ("51", 21), ("52", 9), ("53", 16), ("54", 7), ("61", 10), ("62", 14),
        ("63", 8), ("64", 5), ("65", 14),
    ],
)  # fmt: skip
def test_prefecture_count_per_province(prefix: str, count: int) -> None:
    assert len(regions.cities_of(prefix)) == count


@pytest.mark.parametrize(("prefix", "code"), sorted(MUNICIPALITIES.items()))
def test_municipalities_have_their_single_city(prefix: str, code: str) -> None:
    [city] = regions.cities_of(prefix)
    assert city.code == code
    assert city.name_zh == regions.get(prefix + "0000").name_zh


@pytest.mark.parametrize("prefix", sorted(NO_CITIES))
def test_taiwan_hong_kong_macao_have_no_cities(prefix: str) -> None:
    assert regions.get(prefix + "0000") is not None
    assert regions.cities_of(prefix) == []


@pytest.mark.parametrize(
    ("code", "name_zh", "name_en", "level"),
    [
        ("330000", "浙江省", "Zhejiang", "province"),
        ("330100", "杭州市", "Hangzhou", "city"),
        ("420100", "武汉市", "Wuhan", "city"),
        ("440300", "深圳市", "Shenzhen", "city"),
        ("540100", "拉萨市", "Lhasa", "city"),
        ("152500", "锡林郭勒盟", "Xilin Gol League", "city"),
        ("222400", "延边朝鲜族自治州", "Yanbian Korean Autonomous Prefecture", "city"),
        ("652900", "阿克苏地区", "Aksu Prefecture", "city"),
        ("460300", "三沙市", "Sansha", "city"),
        ("650500", "哈密市", "Hami", "city"),
        ("810000", "香港特别行政区", "Hong Kong", "province"),
        ("820000", "澳门特别行政区", "Macao", "province"),
        ("710000", "台湾省", "Taiwan", "province"),
    ],
)
def test_known_codes(code: str, name_zh: str, name_en: str, level: str) -> None:
    assert regions.get(code) == Region(code, name_zh, name_en, level)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code",
    [
        "371200",  # Laiwu, merged into Jinan in 2019
        "330106",  # a district: county level is not in the table
        "419001",  # Jiyuan, county-level city under the province
        "500200",  # Chongqing's old "counties" grouping
        "000000",
        "33",
        "",
        "3301000",
    ],
)
def test_codes_not_in_the_table(code: str) -> None:
    assert regions.get(code) is None


def test_cities_of_accepts_prefix_or_province_code() -> None:
    assert regions.cities_of("33") == regions.cities_of("330000")
    assert regions.cities_of("33")[0].code == "330100"
    assert regions.cities_of("99") == []
    assert regions.cities_of("990000") == []


def test_every_city_belongs_to_an_existing_mainland_province() -> None:
    for province in regions.provinces():
        for city in regions.cities_of(province.code):
            assert city.level == "city"
            assert city.province_prefix == province.province_prefix
    mainland = [p for p in regions.provinces() if p.province_prefix not in NO_CITIES]
    assert all(regions.cities_of(p.code) for p in mainland)


def test_is_province_prefix() -> None:
    assert regions.is_province_prefix("33")
    assert regions.is_province_prefix("82")
    for not_a_prefix in ("00", "10", "39", "72", "99", "3", "330", "", "33 "):
        assert not regions.is_province_prefix(not_a_prefix)


def test_results_are_copies_callers_cannot_corrupt() -> None:
    regions.provinces().clear()
    regions.cities_of("33").clear()
    assert len(regions.provinces()) == 34
    assert len(regions.cities_of("33")) == 11


# --- the data file itself ---------------------------------------------------------------------


def test_data_file_is_clean_sorted_and_unique() -> None:
    lines = TSV.splitlines()
    assert lines[0] == "code\tname_zh\tname_en"
    codes = [line.split("\t")[0] for line in lines[1:]]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes)) == 34 + 337
    assert TSV.endswith("\n") and "\r" not in TSV
    for row in parse_region_rows(TSV):
        assert row.name_zh[-1] in "省市区州盟" or row.name_zh.endswith("地区"), row
        assert row.name_en.strip() == row.name_en and row.name_en


def test_source_notes_exist() -> None:
    notes = resources.files("rules").joinpath("data/SOURCE.md").read_text(encoding="utf-8")
    assert "Ministry of Civil Affairs" in notes
    assert "2020-12" in notes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "code\tname\n330100\t杭州市\tHangzhou\n",
        "code\tname_zh\tname_en\n330100\t杭州市\n",
        "code\tname_zh\tname_en\n33010\t杭州市\tHangzhou\n",
        "code\tname_zh\tname_en\n330101\t杭州市\tHangzhou\n",
        "code\tname_zh\tname_en\n330100\t\tHangzhou\n",
        "code\tname_zh\tname_en\n330100\t杭州市 \tHangzhou\n",
    ],
)
def test_malformed_rows_are_refused(text: str) -> None:
    with pytest.raises(RegionDataError):
        parse_region_rows(text)


def test_duplicate_and_orphan_rows_are_refused() -> None:
    from rules.regions import _build_table  # the integrity checks are private by design

    header = "code\tname_zh\tname_en\n"
    with pytest.raises(RegionDataError, match="duplicate"):
        _build_table(parse_region_rows(header + "330000\t浙江省\tZhejiang\n330000\t浙江省\tZhejiang\n"))
    with pytest.raises(RegionDataError, match="no province"):
        _build_table(parse_region_rows(header + "330100\t杭州市\tHangzhou\n"))
