"""Guardians and dependants, and the one-tap repeat, as pure rules (hypothesis)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.declaring import entirely_normal, lowest_temperature_threshold, may_repeat, repeated
from rules.family import (
    CONSENT_AGE,
    MAX_DEPENDANTS,
    MAX_GUARDIANS,
    Basis,
    Refusal,
    age_on,
    basis_for,
    dependant_id,
    is_dependant_id,
    may_add_dependant,
    may_join_as_guardian,
    names_match,
)
from rules.model import Answers, Colour, Diagnosis, Symptom, TravelRisk
from rules.policy import NORMAL, PolicyError, classify, parse_policy

DEFAULT_TEXT = resources.files("rules").joinpath("default_policy.toml").read_text(encoding="utf-8")
POLICY = parse_policy(DEFAULT_TEXT, "default")
TELEGRAM_USER_IDS = st.integers(min_value=1, max_value=2**53)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))
answers = st.builds(
    Answers,
    temperature=st.decimals(min_value=Decimal("34.0"), max_value=Decimal("42.0"), places=1),
    symptoms=st.frozensets(st.sampled_from(list(Symptom))),
    close_contact=st.booleans(),
    travel=st.sampled_from(list(TravelRisk)),
    diagnosis=st.sampled_from(list(Diagnosis)),
    visited=st.frozensets(st.sampled_from(["330100", "420100"]), max_size=1),
)


@given(st.integers(min_value=0, max_value=2**52))
def test_a_dependants_id_is_never_a_telegram_user_id(n: int) -> None:
    assert is_dependant_id(dependant_id(n)) and dependant_id(n) < 0


@given(TELEGRAM_USER_IDS)
def test_telegram_user_ids_and_the_erased_actor_are_never_dependants(telegram_id: int) -> None:
    assert not is_dependant_id(telegram_id) and not is_dependant_id(0)


def test_a_negative_n_is_refused() -> None:
    with pytest.raises(ValueError):
        dependant_id(-1)


@given(births, st.integers(min_value=0, max_value=120))
def test_age_counts_whole_years_from_the_birthday(birth: date, years: int) -> None:
    try:
        birthday = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a year without one
        return
    assert age_on(birth, birthday) == years
    assert age_on(birth, birthday - timedelta(days=1)) == years - 1


@given(births, st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
def test_under_fourteen_needs_the_guardians_consent(birth: date, today: date) -> None:
    expected = Basis.GUARDIAN_CONSENT if age_on(birth, today) < CONSENT_AGE else Basis.ATTESTED
    assert basis_for(birth, today) is expected


def test_the_fourteenth_birthday_is_the_boundary() -> None:
    assert basis_for(date(2012, 3, 2), date(2026, 3, 1)) is Basis.GUARDIAN_CONSENT
    assert basis_for(date(2012, 3, 2), date(2026, 3, 2)) is Basis.ATTESTED


@given(st.integers(min_value=0, max_value=20))
def test_at_most_five_dependants(current: int) -> None:
    assert (may_add_dependant(current) is None) == (current < MAX_DEPENDANTS)


@given(st.integers(min_value=0, max_value=5), st.booleans(), st.booleans())
def test_at_most_two_guardians_and_never_twice_or_oneself(guardians: int, already: bool, is_self: bool) -> None:
    refusal = may_join_as_guardian(guardians, already, is_self)
    if is_self:
        assert refusal is Refusal.SELF
    elif already:
        assert refusal is Refusal.ALREADY_GUARDIAN
    else:
        assert (refusal is None) == (guardians < MAX_GUARDIANS)


@given(st.text(min_size=1, max_size=20))
def test_a_claim_name_matches_itself_whatever_the_spacing_and_case(name: str) -> None:
    assert names_match(name, name) and names_match(f"  {name.upper()} ", name.lower()) == names_match(
        name.upper(), name.lower())


def test_a_different_name_does_not_match() -> None:
    assert names_match("王 芳", "王芳") and not names_match("王芬", "王芳")


# --- the one-tap repeat ----------------------------------------------------------------------------


@given(answers)
def test_only_an_entirely_normal_day_may_be_repeated_and_it_is_green(day: Answers) -> None:
    normal = entirely_normal(POLICY, day)
    assert may_repeat(POLICY, day) == normal
    if normal:
        assert classify(POLICY, day) == (Colour.GREEN, NORMAL)
        assert not day.symptoms and not day.close_contact and day.travel is TravelRisk.NONE
        assert day.diagnosis is Diagnosis.NONE and day.temperature < Decimal("37.3")


@given(answers, st.none() | st.decimals(min_value=Decimal("34.0"), max_value=Decimal("42.0"), places=1))
def test_a_repeat_keeps_only_the_everyday_answers(day: Answers, temperature: Decimal | None) -> None:
    again = repeated(day, temperature)
    assert again.temperature == (day.temperature if temperature is None else temperature)
    assert not again.symptoms and not again.close_contact and not again.visited
    assert again.travel is TravelRisk.NONE and again.diagnosis is Diagnosis.NONE
    if entirely_normal(POLICY, day) and temperature is None:
        assert again == day


def test_nothing_yesterday_is_nothing_to_repeat() -> None:
    assert not may_repeat(POLICY, None)
    assert lowest_temperature_threshold(POLICY) == Decimal("37.3")


# --- the policy setting ------------------------------------------------------------------------------


def test_the_default_policy_repeats_yesterdays_reading() -> None:
    assert POLICY.temperature_every_day is False
    without = DEFAULT_TEXT.split("[declaration]")[0]
    assert parse_policy(without, "old").temperature_every_day is False  # a policy written before the setting


def test_a_policy_may_want_a_reading_every_day_and_is_read_strictly() -> None:
    text = DEFAULT_TEXT.replace("temperature_every_day = false", "temperature_every_day = true")
    assert parse_policy(text, "p").temperature_every_day is True
    with pytest.raises(PolicyError, match="declaration.temperature_every_day: must be true or false"):
        parse_policy(DEFAULT_TEXT.replace("temperature_every_day = false", 'temperature_every_day = "yes"'), "p")
    with pytest.raises(PolicyError, match="declaration.reading: unknown key"):
        parse_policy(DEFAULT_TEXT.replace("temperature_every_day = false", "reading = 1"), "p")
    with pytest.raises(PolicyError, match="declaration: must be a table"):
        parse_policy(DEFAULT_TEXT.split("[declaration]")[0].replace('name = "', 'declaration = 1\nname = "'), "p")
