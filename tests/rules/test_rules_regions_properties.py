"""Properties of the region hierarchy: on the packaged table, and on generated tables."""
from __future__ import annotations

from importlib import resources

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.regions import Region, RegionTable, level_of_code, parse_region_table

TSV = resources.files("rules").joinpath("data/gb2260.tsv").read_text(encoding="utf-8")
TABLE = parse_region_table(TSV)
ALL = list(TABLE)
everywhere = st.sampled_from(ALL)
counties = st.sampled_from([r for r in ALL if r.level == "county"])
LEVEL_ABOVE = {"county": ("city", "province"), "city": ("province",)}


def _is_municipality(prefix: str) -> bool:
    return len(TABLE.cities_of(prefix)) == 1


def test_codes_are_unique_six_ascii_digits_with_names() -> None:
    rows = TSV.splitlines()[1:]
    assert len({row.split("\t")[0] for row in rows}) == len(rows) == len(ALL)
    for region in ALL:
        assert len(region.code) == 6 and region.code.isascii() and region.code.isdigit()
        assert region.name_zh and region.name_en and region.name_zh.strip() == region.name_zh
        assert region.level == level_of_code(region.code)


@settings(max_examples=400, deadline=None)
@given(everywhere)
def test_every_region_has_its_parents_in_the_table(region: Region) -> None:
    parent = TABLE.parent_of(region.code)
    if region.level == "province":
        assert parent is None
        return
    assert parent is not None and TABLE.get(parent.code) == parent
    assert parent.level in LEVEL_ABOVE[region.level]
    assert parent.province_prefix == region.province_prefix
    assert region in TABLE.children_of(parent.code)
    province = TABLE.province_of(region.code)
    assert province is not None and province.code == region.code[:2] + "0000"


@settings(max_examples=400, deadline=None)
@given(counties)
def test_a_county_prefix_names_its_city_or_says_why_not(county: Region) -> None:
    parent = TABLE.parent_of(county.code)
    assert parent is not None
    if parent.level == "province":  # 省直辖县级行政区划
        assert county.code[2:4] == "90"
        assert TABLE.city_of(county.code) is None
    elif parent.code[:4] != county.code[:4]:  # only in a municipality (Chongqing's 5002xx)
        assert _is_municipality(county.province_prefix)
        assert TABLE.get(county.code[:4] + "00") is None
    assert TABLE.city_of(county.code) in (None, parent)
    assert TABLE.children_of(county.code) == []


@settings(max_examples=400, deadline=None)
@given(everywhere)
def test_the_path_runs_from_a_province_down_to_the_region(region: Region) -> None:
    path = TABLE.path(region.code)
    assert path[0].level == "province" and path[-1] == region
    assert 1 <= len(path) <= 3
    for upper, lower in zip(path, path[1:]):
        assert TABLE.parent_of(lower.code) == upper
    assert all(TABLE.lies_within(region.code, ancestor.code) for ancestor in path)


@settings(max_examples=200, deadline=None)
@given(everywhere, everywhere)
def test_lies_within_follows_the_hierarchy(region: Region, area: Region) -> None:
    inside = TABLE.lies_within(region.code, area.code)
    assert inside == (area in TABLE.path(region.code))
    if inside:
        assert region.province_prefix == area.province_prefix


# --- generated tables -------------------------------------------------------------------------


@st.composite
def generated_tables(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """TSV text of a random valid table, and the parent each non-province code must get."""
    prefixes = draw(st.sets(st.integers(11, 89).map(str), min_size=1, max_size=4))
    rows: list[str] = []
    expected: dict[str, str] = {}
    for prefix in sorted(prefixes):
        province = prefix + "0000"
        rows.append(f"{province}\tP{prefix}\tProvince {prefix}")
        cities = sorted(draw(st.sets(st.integers(1, 30), max_size=4)))
        for number in cities:
            city = f"{prefix}{number:02d}00"
            rows.append(f"{city}\tC{city}\tCity {city}")
            expected[city] = province
            for county_number in sorted(draw(st.sets(st.integers(1, 99), max_size=3))):
                county = f"{city[:4]}{county_number:02d}"
                rows.append(f"{county}\tX{county}\tCounty {county}")
                expected[county] = city
        for county_number in sorted(draw(st.sets(st.integers(1, 99), max_size=2))):
            county = f"{prefix}90{county_number:02d}"
            rows.append(f"{county}\tD{county}\tDirect {county}")
            expected[county] = province
    draw(st.randoms()).shuffle(rows)  # the table orders itself
    return "code\tname_zh\tname_en\n" + "\n".join(rows) + "\n", expected


@settings(deadline=None)
@given(generated_tables())
def test_a_generated_table_gets_the_parents_it_was_built_with(generated: tuple[str, dict[str, str]]) -> None:
    text, expected = generated
    table = parse_region_table(text)
    assert {code: table.parent_of(code).code for code in expected} == expected  # type: ignore[union-attr]
    assert [r.code for r in table] == sorted(r.code for r in table)
    for region in table:
        assert sorted(table.children_of(region.code), key=lambda r: r.code) == table.children_of(region.code)
        assert all(table.parent_of(child.code) == region for child in table.children_of(region.code))


@settings(deadline=None)
@given(st.lists(st.sampled_from(ALL), unique=True, max_size=30))
def test_any_subset_with_its_ancestors_builds_the_same_hierarchy(chosen: list[Region]) -> None:
    # Parents are found from the rows themselves, so a smaller table that keeps every ancestor agrees.
    closed = {ancestor for region in chosen for ancestor in TABLE.path(region.code)}
    table = RegionTable(closed)
    for region in closed:
        assert table.parent_of(region.code) == TABLE.parent_of(region.code)
