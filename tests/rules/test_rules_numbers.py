"""The one parser for numbers in commands and callback data: ASCII digits only, bounded."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.validators import INTEGER_MAX, parse_id, parse_number


@pytest.mark.parametrize("text", ["0", "7", "42", "007", str(INTEGER_MAX)])
def test_ascii_digits_within_the_bound_parse(text: str) -> None:
    assert parse_number(text) == int(text)


@pytest.mark.parametrize("text", [
    "", "²", "¹", "³", "1²", "٣", "１２", "-1", "+1", " 1", "1 ", "1_000", "1.0", "0x10", "१",
    str(INTEGER_MAX + 1), "9" * 30, "0" * 19 + "1", "9" * 5000,
])
def test_anything_else_is_none(text: str) -> None:
    assert parse_number(text) is None


def test_bounds_are_inclusive() -> None:
    assert parse_number("1", minimum=1, maximum=90) == 1
    assert parse_number("90", minimum=1, maximum=90) == 90
    assert parse_number("0", minimum=1, maximum=90) is None
    assert parse_number("91", minimum=1, maximum=90) is None


def test_an_id_starts_at_one() -> None:
    assert parse_id("0") is None and parse_id("1") == 1


@given(st.text(max_size=40))
def test_never_raises_and_only_returns_what_fits(text: str) -> None:
    value = parse_number(text)
    assert value is None or (0 <= value <= INTEGER_MAX and text.isascii() and text.isdigit())


@given(st.integers(min_value=0, max_value=INTEGER_MAX))
def test_every_integer_that_fits_round_trips(value: int) -> None:
    assert parse_number(str(value)) == value
