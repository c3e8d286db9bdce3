"""Colour and risk-level words (/override, /riskareas): every alias names its own value, nothing else does."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.model import Colour, TravelRisk
from rules.words import COLOUR_WORDS, RISK_LEVEL_WORDS, colour_named, risk_level_named

SETTINGS = settings(max_examples=300, deadline=None)
ALL_COLOUR_WORDS = sorted(word for words in COLOUR_WORDS.values() for word in words)
ALL_LEVEL_WORDS = sorted(word for words in RISK_LEVEL_WORDS.values() for word in words)
SPACE = st.text(alphabet=" \t", max_size=3)


def test_each_value_is_named_by_its_own_name_and_no_word_names_two() -> None:
    assert all(colour_named(colour.value) is colour for colour in Colour)
    assert [risk_level_named(level.value) for level in TravelRisk] == [None, TravelRisk.MEDIUM, TravelRisk.HIGH]
    for table in (COLOUR_WORDS, RISK_LEVEL_WORDS):
        words = [word for names in table.values() for word in names]
        assert len(words) == len(set(words))


@SETTINGS
@given(st.sampled_from(ALL_COLOUR_WORDS), SPACE, SPACE, st.booleans())
def test_a_colour_word_names_its_colour_whatever_its_case_and_spacing(word: str, before: str, after: str,
                                                                      upper: bool) -> None:
    typed = before + (word.upper() if upper else word) + after
    assert colour_named(typed) is next(colour for colour, names in COLOUR_WORDS.items() if word in names)


@SETTINGS
@given(st.sampled_from(ALL_LEVEL_WORDS), SPACE, SPACE, st.booleans())
def test_a_level_word_names_its_level_whatever_its_case_and_spacing(word: str, before: str, after: str,
                                                                    upper: bool) -> None:
    typed = before + (word.upper() if upper else word) + after
    assert risk_level_named(typed) is next(level for level, names in RISK_LEVEL_WORDS.items() if word in names)


@SETTINGS
@given(st.text(max_size=12))
def test_any_other_text_names_nothing(typed: str) -> None:
    colour, level = colour_named(typed), risk_level_named(typed)
    wanted = typed.strip().lower()
    assert (colour is None) == (wanted not in ALL_COLOUR_WORDS)
    assert colour is None or wanted in COLOUR_WORDS[colour]
    assert (level is None) == (wanted not in ALL_LEVEL_WORDS)
    assert level is None or wanted in RISK_LEVEL_WORDS[level]
