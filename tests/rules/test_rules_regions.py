"""The GB/T 2260 table: completeness, known codes, API behaviour and data-file integrity."""
from __future__ import annotations

from importlib import resources

import pytest

from rules.regions import Region, RegionDataError, RegionTable, parse_region_rows, parse_region_table

# The test reads the packaged file itself (bot.regions does it for the application): rules/ only parses.
TSV = resources.files("rules").joinpath("data/gb2260.tsv").read_text(encoding="utf-8")
regions = parse_region_table(TSV)
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
        ("330106", "西湖区", "Xihu District", "county"),
        ("110105", "朝阳区", "Chaoyang District", "county"),
        ("130102", "长安区", "Chang'an District", "county"),
        ("140302", "城区", "Chengqu District", "county"),
        ("150423", "巴林右旗", "Balin Right Banner", "county"),
        ("150723", "鄂伦春自治旗", "Oroqen Autonomous Banner", "county"),
        ("330382", "乐清市", "Yueqing City", "county"),
        ("419001", "济源市", "Jiyuan City", "county"),
        ("429021", "神农架林区", "Shennongjia Forestry District", "county"),
        ("500240", "石柱土家族自治县", "Shizhu Tujia Autonomous County", "county"),
        ("520203", "六枝特区", "Liuzhi Special District", "county"),
        ("530925", "双江拉祜族佤族布朗族傣族自治县", "Shuangjiang Lahu, Va, Blang and Dai Autonomous County", "county"),
        ("659001", "石河子市", "Shihezi City", "county"),
    ],
)
def test_known_codes(code: str, name_zh: str, name_en: str, level: str) -> None:
    assert regions.get(code) == Region(code, name_zh, name_en, level)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code",
    [
        "371200",  # Laiwu, merged into Jinan in 2019
        "371202",  # Laiwu's former Laicheng district went with it
        "330101",  # the old "市辖区" placeholder rows are not divisions
        "330113",  # Linping, created 2021-03: after the 2020-12 edition
        "419000",  # the grouping row of counties administered by Henan directly
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
    assert len(codes) == len(set(codes)) == 34 + 337 + 2846
    assert TSV.endswith("\n") and "\r" not in TSV
    for row in parse_region_rows(TSV):
        if row.level == "county":
            assert row.name_zh[-1] in "区县市旗" or row.name_zh.endswith(("群岛", "海域")), row
        else:
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
        "code\tname_zh\tname_en\n３３０１００\t杭州市\tHangzhou\n",
        "code\tname_zh\tname_en\n001000\t杭州市\tHangzhou\n",
        "code\tname_zh\tname_en\n330100\t\tHangzhou\n",
        "code\tname_zh\tname_en\n330100\t杭州市 \tHangzhou\n",
    ],
)
def test_malformed_rows_are_refused(text: str) -> None:
    with pytest.raises(RegionDataError):
        parse_region_rows(text)


def test_duplicate_and_orphan_rows_are_refused() -> None:
    header = "code\tname_zh\tname_en\n"
    with pytest.raises(RegionDataError, match="duplicate"):
        parse_region_table(header + "330000\t浙江省\tZhejiang\n330000\t浙江省\tZhejiang\n")
    with pytest.raises(RegionDataError, match="no province"):
        parse_region_table(header + "330100\t杭州市\tHangzhou\n")
    with pytest.raises(RegionDataError, match="no province"):
        parse_region_table(header + "330106\t西湖区\tXihu District\n")
    two_cities = header + "330000\t浙江省\tZhejiang\n330100\t杭州市\tHangzhou\n330200\t宁波市\tNingbo\n"
    with pytest.raises(RegionDataError, match="county 330306 has no city"):
        parse_region_table(two_cities + "330306\t洞头区\tDongtou District\n")
    with pytest.raises(RegionDataError, match="not a city code"):
        RegionTable([Region("330000", "浙江省", "Zhejiang", "province"), Region("330106", "西湖区", "Xihu", "city")])


# --- county level and the hierarchy -----------------------------------------------------------

DIRECTLY_UNDER_A_PROVINCE = {  # 省直辖县级行政区划 (digits 3-4 are 90)
    "41": ["419001"],
    "42": ["429004", "429005", "429006", "429021"],
    "46": ["469001", "469002", "469005", "469006", "469007", "469021", "469022", "469023", "469024", "469025",
           "469026", "469027", "469028", "469029", "469030"],
    "65": [f"6590{n:02d}" for n in range(1, 12)],
}  # fmt: skip
CITIES_WITHOUT_COUNTIES = ["441900", "442000", "460400", "620200"]  # Dongguan, Zhongshan, Danzhou, Jiayuguan


def test_every_level_is_complete() -> None:
    levels = [r.level for r in regions]
    assert (levels.count("province"), levels.count("city"), levels.count("county")) == (34, 337, 2846)
    assert len(regions) == len(TSV.splitlines()) - 1


def test_a_county_its_city_and_its_province() -> None:
    assert regions.parent_of("330106") == regions.get("330100")
    assert regions.city_of("330106") == regions.get("330100")
    assert regions.province_of("330106") == regions.get("330000")
    assert [r.code for r in regions.path("330106")] == ["330000", "330100", "330106"]
    assert [r.code for r in regions.counties_of("330100")] == [
        "330102", "330103", "330104", "330105", "330106", "330108", "330109", "330110", "330111", "330112",
        "330122", "330127", "330182",
    ]  # fmt: skip
    assert regions.children_of("330100") == regions.counties_of("330100")
    assert regions.children_of("330000") == regions.cities_of("33")


def test_a_city_and_a_province_answer_for_themselves() -> None:
    assert regions.city_of("330100") == regions.get("330100")
    assert regions.province_of("330100") == regions.province_of("330000") == regions.get("330000")
    assert regions.parent_of("330100") == regions.get("330000")
    assert regions.parent_of("330000") is None and regions.city_of("330000") is None
    assert [r.code for r in regions.path("330000")] == ["330000"]


@pytest.mark.parametrize("code", ["999999", "330199", "", "33", "3301060"])
def test_unknown_codes_have_no_relatives(code: str) -> None:
    assert regions.parent_of(code) is None
    assert regions.province_of(code) is None
    assert regions.city_of(code) is None
    assert regions.children_of(code) == []
    assert regions.path(code) == []
    assert not regions.lies_within(code, code[:2] + "0000")


@pytest.mark.parametrize(("prefix", "city"), sorted(MUNICIPALITIES.items()))
def test_municipality_counties_belong_to_its_single_city(prefix: str, city: str) -> None:
    counties = [r for r in regions if r.level == "county" and r.province_prefix == prefix]
    assert counties and regions.counties_of(city) == counties
    assert all(regions.parent_of(c.code) == regions.get(city) for c in counties)
    assert regions.children_of(prefix + "0000") == [regions.get(city)]


def test_chongqing_counties_5002xx_lie_within_the_municipality_city() -> None:
    assert len(regions.counties_of("500100")) == 38  # 26 districts and 12 counties
    assert regions.city_of("500229") == regions.get("500100")  # 城口县
    assert regions.lies_within("500229", "500100") and regions.lies_within("500229", "500000")
    assert not regions.lies_within("500229", "510000")


@pytest.mark.parametrize(("prefix", "codes"), sorted(DIRECTLY_UNDER_A_PROVINCE.items()))
def test_counties_administered_directly_by_a_province(prefix: str, codes: list[str]) -> None:
    province = regions.get(prefix + "0000")
    assert [r.code for r in regions.counties_of(province.code)] == codes
    for code in codes:
        assert regions.get(code).level == "county"
        assert regions.parent_of(code) == province
        assert regions.city_of(code) is None
        assert regions.province_of(code) == province
        assert [r.code for r in regions.path(code)] == [province.code, code]
    # One level down from the province: its cities first, then the counties it runs itself.
    assert [r.code for r in regions.children_of(province.code)] == [c.code for c in regions.cities_of(prefix)] + codes


@pytest.mark.parametrize("code", CITIES_WITHOUT_COUNTIES)
def test_cities_without_county_level_divisions_are_leaves(code: str) -> None:
    city = regions.get(code)
    assert city is not None and city.level == "city"
    assert regions.children_of(code) == [] and regions.counties_of(code) == []
    assert regions.parent_of(code) == regions.get(code[:2] + "0000")


def test_hong_kong_macao_taiwan_have_no_counties() -> None:
    assert all(regions.children_of(p + "0000") == [] for p in NO_CITIES)


def test_rules_regions_does_no_io() -> None:
    # The table is read at the edge (bot.regions); rules.regions only parses text it is given.
    import ast
    import inspect

    import rules.regions as module

    tree = ast.parse(inspect.getsource(module))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not imported & {"importlib", "importlib.resources", "pathlib", "os", "io"}
    assert not any(isinstance(n, ast.Name) and n.id == "open" for n in ast.walk(tree))
