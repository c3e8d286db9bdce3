"""rules.imports: decoding a list, refusing formulas and bad headers, reading every row exactly once."""
from __future__ import annotations

from datetime import date
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.imports import (
    MAX_ROWS, Formula, IdentifierKind, ListProblem, column_letter, csv_rows, decode_csv, identifying_column,
    is_formula, read_list,
)
from rules.regions import parse_region_table
from rules.validators import resident_id_check_char

TODAY = date(2026, 3, 2)
TABLE = parse_region_table(resources.files("rules").joinpath("data/gb2260.tsv").read_text(encoding="utf-8"))
SETTINGS = settings(max_examples=150, deadline=None)


def an_id(n: int) -> str:
    body = f"3301061980{n // 28000 % 12 + 1:02d}{n // 1000 % 28 + 1:02d}{n % 1000:03d}"
    return body + resident_id_check_char(body)


def rows(header: list[str], cells: list[list[object]]) -> list[tuple[int, list[object]]]:
    return [(1, header)] + [(n + 2, row) for n, row in enumerate(cells)]


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 5000), st.booleans()), max_size=60))
def test_every_good_id_is_listed_once_and_every_bad_row_is_counted(entries: list[tuple[int, bool]]) -> None:
    cells = []
    for n, good in entries:
        value = an_id(n)
        cells.append([value if good else value[:17] + ("1" if value[17] == "0" else "0")])
    if not cells:
        with pytest.raises(ListProblem):
            read_list(rows(["身份证号"], cells), TODAY, TABLE)
        return
    reading = read_list(rows(["身份证号"], cells), TODAY, TABLE)
    good = [an_id(n) for n, ok in entries if ok]
    assert reading.identifiers == list(dict.fromkeys(good))
    assert reading.duplicates == len(good) - len(set(good))
    assert reading.malformed_count == sum(1 for _, ok in entries if not ok)
    assert [m.line for m in reading.malformed] == [n + 2 for n, (_, ok) in enumerate(entries) if not ok][:10]
    assert reading.rows == len(entries)


@SETTINGS
# One line of text: no NUL (a NUL byte means a binary file, refused as such) and nothing str.splitlines
# would split on (\x0b, \x1c, \u2028 …), since a file's lines end only at \n or \r.
@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s and len(f"a{s}a".splitlines()) == 1))
def test_utf8_and_gbk_text_decode_to_the_same_lines(text: str) -> None:
    try:
        gbk = ("身份证号\n" + text).encode("gbk")
    except UnicodeEncodeError:
        return
    utf8 = ("身份证号\n" + text).encode("utf-8")
    assert decode_csv(utf8) == decode_csv(gbk) == decode_csv(b"\xef\xbb\xbf" + utf8) == ["身份证号", text]


def test_a_file_that_switches_encoding_is_refused_with_both_lines() -> None:
    content = "身份证号\n".encode() + "330106\n".encode() + "张三\n".encode("gbk")
    with pytest.raises(ListProblem) as refused:
        decode_csv(content)
    assert refused.value.code == "encoding_mixed" and refused.value.params == {"utf8_line": 1, "gbk_line": 3}


@given(st.sampled_from("=+-@\t\r"), st.text(max_size=10))
def test_cells_a_spreadsheet_would_run_are_formulas(start: str, rest: str) -> None:
    assert is_formula(start + rest) and is_formula(Formula())


@given(st.text(max_size=10).filter(lambda s: not s.startswith(("=", "+", "-", "@", "\t", "\r"))))
def test_other_text_is_not(text: str) -> None:
    assert not is_formula(text) and not is_formula(None) and not is_formula(12)


def test_a_formula_anywhere_refuses_the_file_naming_line_and_column() -> None:
    with pytest.raises(ListProblem) as refused:
        read_list(rows(["姓名", "phone"], [["张三", "13900000000"], ["李四", Formula()]]), TODAY, TABLE)
    assert refused.value.code == "formula" and refused.value.params == {"line": 3, "column": "B"}


@pytest.mark.parametrize(("header", "code"), [(["name"], "no_column"), (["phone", "身份证号"], "two_columns"),
                                               ([], "no_column")])
def test_headers_that_do_not_say_what_identifies_people(header: list[str], code: str) -> None:
    with pytest.raises(ListProblem) as refused:
        identifying_column(header)
    assert refused.value.code == code


def test_header_names_are_matched_loosely() -> None:
    assert identifying_column(["姓名", " Mobile  Number "]) == (1, IdentifierKind.PHONE)
    assert identifying_column(["ＲＥＳＩＤＥＮＴ_ＩＤ"]) == (0, IdentifierKind.RESIDENT_ID)


def test_more_than_the_row_limit_is_refused() -> None:
    big = rows(["phone"], [["13900000000"]] * (MAX_ROWS + 1))
    with pytest.raises(ListProblem) as refused:
        read_list(big, TODAY, TABLE)
    assert refused.value.code == "too_many_rows"


def test_numbers_phones_from_a_spreadsheet_and_ids_that_lost_digits() -> None:
    reading = read_list(rows(["phone"], [[13900000000], [13900000001.0], [1.5]]), TODAY, TABLE)
    assert reading.identifiers == ["13900000000", "13900000001"] and reading.malformed_count == 1
    reading = read_list(rows(["身份证号"], [[330106198001010010], [an_id(1)]]), TODAY, TABLE)
    assert reading.identifiers == [an_id(1)] and reading.malformed[0].problem == "imports.number_cell"


def test_csv_records_keep_their_first_line_number() -> None:
    assert list(csv_rows(["a,b", '"x', 'y",z', "1,2"])) == [(1, ["a", "b"]), (2, ["xy", "z"]), (4, ["1", "2"])]
    with pytest.raises(ListProblem):
        list(csv_rows(['a,"b']))


@given(st.integers(0, 2000))
def test_column_letters(index: int) -> None:
    letters = column_letter(index)
    value = 0
    for letter in letters:
        value = value * 26 + ord(letter) - ord("A") + 1
    assert value - 1 == index
