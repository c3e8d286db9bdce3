"""Policy as data: parsing, strict errors, the default policy and single-declaration classification."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.policy_file import load_default_policy
from rules.evaluate import evaluate
from rules.model import Answers, Colour, Declaration, Diagnosis, Reason, Symptom, TravelRisk
from rules.policy import (
    REASON_CODES,
    Policy,
    PolicyError,
    classify,
    parse_policy,
)

DEFAULT_TEXT = resources.files("rules").joinpath("default_policy.toml").read_text(encoding="utf-8")


def answers(
    temperature: str = "36.5",
    symptoms: tuple[Symptom, ...] = (),
    close_contact: bool = False,
    travel: TravelRisk = TravelRisk.NONE,
    diagnosis: Diagnosis = Diagnosis.NONE,
) -> Answers:
    return Answers(Decimal(temperature), frozenset(symptoms), close_contact, travel, diagnosis)


def base_document() -> dict[str, Any]:
    """A valid policy document equal to the default, as plain data to mutate in tests."""
    return {
        "version": "test-1",
        "name": "Test policy",
        "recovery": {"yellow_days": 7, "red_days": 14},
        "red": {"diagnoses": ["confirmed", "suspected"], "close_contact": True, "travel": ["high"]},
        "yellow": {"temperature_at_least": 37.3, "symptoms": "any", "travel": ["medium"]},
    }


def to_toml(document: dict[str, Any]) -> str:
    """Tiny TOML writer for the shapes used here (scalars, lists, one level of tables)."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, list):
            return "[" + ", ".join(scalar(item) for item in value) + "]"
        return repr(value)

    lines = [f"{key} = {scalar(value)}" for key, value in document.items() if not isinstance(value, dict)]
    for key, value in document.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines.extend(f"{inner} = {scalar(item)}" for inner, item in value.items())
    return "\n".join(lines) + "\n"


def parse(document: dict[str, Any], source: str = "policy.toml") -> Policy:
    return parse_policy(to_toml(document), source)


# --- the default policy ----------------------------------------------------------------------


def test_default_policy_loads_with_the_hangzhou_thresholds() -> None:
    policy = load_default_policy()
    assert policy.version == "2020.2-hangzhou"
    assert policy.name
    assert policy.recovery.yellow_days == 7
    assert policy.recovery.red_days == 14
    assert policy.red.diagnoses == {Diagnosis.CONFIRMED, Diagnosis.SUSPECTED}
    assert policy.red.close_contact is True
    assert policy.red.travel == {TravelRisk.HIGH}
    assert policy.yellow.temperature_at_least == Decimal("37.3")
    assert policy.yellow.symptoms == frozenset(Symptom)
    assert policy.yellow.travel == {TravelRisk.MEDIUM}


def test_default_policy_equals_the_documented_shape() -> None:
    documented = base_document() | {"version": "2020.2-hangzhou", "name": load_default_policy().name}
    assert parse(documented) == load_default_policy()


def test_required_streak_per_colour() -> None:
    policy = load_default_policy()
    assert policy.required_streak(Colour.YELLOW) == 7
    assert policy.required_streak(Colour.RED) == 14
    assert policy.required_streak(Colour.GREEN) == 0


def test_every_key_of_the_default_file_is_documented_by_a_comment() -> None:
    lines = DEFAULT_TEXT.splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[index - 1].lstrip().startswith("#"), f"undocumented key: {line}"


# --- classification of one declaration --------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "colour", "reason"),
    [
        (answers(diagnosis=Diagnosis.CONFIRMED), Colour.RED, Reason("diagnosis_confirmed")),
        (answers(diagnosis=Diagnosis.SUSPECTED), Colour.RED, Reason("diagnosis_suspected")),
        (answers(close_contact=True), Colour.RED, Reason("close_contact")),
        (answers(travel=TravelRisk.HIGH), Colour.RED, Reason("travel_high")),
        (answers(travel=TravelRisk.MEDIUM), Colour.YELLOW, Reason("travel_medium")),
        (answers(temperature="37.8"), Colour.YELLOW, Reason("temperature_high", (("temperature", "37.8"),))),
        (answers(temperature="37.3"), Colour.YELLOW, Reason("temperature_high", (("temperature", "37.3"),))),
        (answers(symptoms=(Symptom.FATIGUE,)), Colour.YELLOW, Reason("symptoms", (("symptoms", "fatigue"),))),
        (
            answers(symptoms=(Symptom.FEVER, Symptom.COUGH)),
            Colour.YELLOW,
            Reason("symptoms", (("symptoms", "cough,fever"),)),
        ),
        (answers(temperature="37.2"), Colour.GREEN, Reason("normal")),
        (answers(), Colour.GREEN, Reason("normal")),
    ],
)
def test_classify_with_default_policy(given: Answers, colour: Colour, reason: Reason) -> None:
    assert classify(load_default_policy(), given) == (colour, reason)


@pytest.mark.parametrize(
    ("given", "expected_code"),
    [
        # Everything at once: the diagnosis is the gravest answer.
        (
            answers("39.0", (Symptom.COUGH,), True, TravelRisk.HIGH, Diagnosis.CONFIRMED),
            "diagnosis_confirmed",
        ),
        (answers("39.0", (Symptom.COUGH,), True, TravelRisk.HIGH, Diagnosis.SUSPECTED), "diagnosis_suspected"),
        (answers("39.0", (Symptom.COUGH,), True, TravelRisk.HIGH), "close_contact"),
        (answers("39.0", (Symptom.COUGH,), False, TravelRisk.HIGH), "travel_high"),
        # A red answer beats yellow ones whatever the tier order in the answers.
        (answers("39.0", (Symptom.COUGH,), False, TravelRisk.MEDIUM, Diagnosis.SUSPECTED), "diagnosis_suspected"),
        (answers("39.0", (Symptom.COUGH,), False, TravelRisk.MEDIUM), "travel_medium"),
        (answers("39.0", (Symptom.COUGH,)), "temperature_high"),
    ],
)
def test_classify_names_the_most_severe_answer(given: Answers, expected_code: str) -> None:
    assert classify(load_default_policy(), given)[1].code == expected_code


def test_symptoms_param_lists_all_reported_symptoms_sorted() -> None:
    given = answers(symptoms=(Symptom.SORE_THROAT, Symptom.COUGH, Symptom.LOSS_OF_TASTE_OR_SMELL))
    colour, reason = classify(load_default_policy(), given)
    assert colour is Colour.YELLOW
    assert reason.param_dict() == {"symptoms": "cough,loss_of_taste_or_smell,sore_throat"}
    assert reason.symptoms() == (Symptom.COUGH, Symptom.LOSS_OF_TASTE_OR_SMELL, Symptom.SORE_THROAT)


@given(st.frozensets(st.sampled_from(Symptom)))
def test_a_reason_gives_back_the_symptoms_it_names(symptoms: frozenset[Symptom]) -> None:
    reason = Reason.naming_symptoms("symptoms", symptoms)
    assert reason.symptoms() == tuple(sorted(symptoms, key=lambda symptom: symptom.value))
    assert Reason("normal").symptoms() == ()


def test_reason_codes_are_exactly_the_catalogue_keys() -> None:
    assert REASON_CODES == {
        "diagnosis_confirmed",
        "diagnosis_suspected",
        "close_contact",
        "travel_high",
        "travel_medium",
        "temperature_high",
        "symptoms",
        "normal",
        "recovering",
        "no_declaration",
        "recovered",
        "checkpoint_reading",
    }


def test_every_code_classify_can_produce_is_in_reason_codes() -> None:
    policy = load_default_policy()
    produced = {
        classify(policy, answers(temperature, symptoms, contact, travel, diagnosis))[1].code
        for temperature in ("36.0", "38.0")
        for symptoms in ((), (Symptom.COUGH,))
        for contact in (False, True)
        for travel in TravelRisk
        for diagnosis in Diagnosis
    }
    assert produced <= REASON_CODES
    assert produced == REASON_CODES - {"recovering", "no_declaration", "recovered", "checkpoint_reading"}


# --- policies are data: edits change behaviour ------------------------------------------------


def test_a_changed_temperature_threshold_changes_the_colour() -> None:
    stricter = DEFAULT_TEXT.replace("temperature_at_least = 37.3", "temperature_at_least = 37.0")
    looser = DEFAULT_TEXT.replace("temperature_at_least = 37.3", "temperature_at_least = 38")
    assert stricter != DEFAULT_TEXT and looser != DEFAULT_TEXT
    reading = answers("37.1")
    assert classify(load_default_policy(), reading)[0] is Colour.GREEN
    assert classify(parse_policy(stricter, "strict.toml"), reading)[0] is Colour.YELLOW
    assert classify(parse_policy(looser, "loose.toml"), answers("37.9"))[0] is Colour.GREEN
    assert classify(parse_policy(looser, "loose.toml"), answers("38.0"))[0] is Colour.YELLOW


def test_changed_recovery_days_change_when_the_code_turns_green() -> None:
    short = parse_policy(DEFAULT_TEXT.replace("yellow_days = 7", "yellow_days = 3"), "short.toml")
    start = date(2020, 2, 10)
    history = [Declaration(start, answers("38.0"))] + [
        Declaration(start + timedelta(days=n), answers()) for n in range(1, 4)
    ]
    assert evaluate(short, history, start + timedelta(days=2)).colour is Colour.YELLOW
    assert evaluate(short, history, start + timedelta(days=3)).colour is Colour.GREEN
    assert evaluate(load_default_policy(), history, start + timedelta(days=3)).colour is Colour.YELLOW


def test_a_policy_can_move_suspected_cases_to_yellow() -> None:
    document = base_document()
    document["red"]["diagnoses"] = ["confirmed"]
    document["yellow"]["diagnoses"] = ["suspected"]
    policy = parse(document)
    suspected = answers(diagnosis=Diagnosis.SUSPECTED)
    assert classify(policy, suspected) == (Colour.YELLOW, Reason("diagnosis_suspected"))
    assert classify(policy, answers(diagnosis=Diagnosis.CONFIRMED))[0] is Colour.RED


def test_a_symptom_list_limits_which_symptoms_count() -> None:
    document = base_document()
    document["yellow"]["symptoms"] = ["fever", "shortness_of_breath"]
    policy = parse(document)
    assert classify(policy, answers(symptoms=(Symptom.COUGH,))) == (Colour.GREEN, Reason("normal"))
    assert classify(policy, answers(symptoms=(Symptom.COUGH, Symptom.FEVER))) == (
        Colour.YELLOW,
        Reason("symptoms", (("symptoms", "fever"),)),
    )


def test_red_may_have_its_own_temperature_threshold() -> None:
    document = base_document()
    document["red"]["temperature_at_least"] = 39.5
    policy = parse(document)
    expected = Reason("temperature_high", (("temperature", "39.5"),))
    assert classify(policy, answers("39.5")) == (Colour.RED, expected)
    assert classify(policy, answers("39.4"))[0] is Colour.YELLOW


def test_leaving_out_optional_tier_keys_means_they_never_trigger() -> None:
    document = base_document()
    document["red"] = {"diagnoses": ["confirmed"]}
    document["yellow"] = {}
    policy = parse(document)
    assert classify(policy, answers("41.0", (Symptom.FEVER,), True, TravelRisk.HIGH, Diagnosis.SUSPECTED))[0] is (
        Colour.GREEN
    )


def test_empty_symptom_list_never_triggers() -> None:
    document = base_document()
    document["yellow"]["symptoms"] = []
    assert classify(parse(document), answers(symptoms=tuple(Symptom)))[0] is Colour.GREEN


def test_integer_threshold_and_bounds_are_accepted() -> None:
    for value, expected in ((38, Decimal("38")), (35, Decimal("35")), (42.0, Decimal("42.0"))):
        document = base_document()
        document["yellow"]["temperature_at_least"] = value
        assert parse(document).yellow.temperature_at_least == expected


def test_threshold_keeps_its_decimal_value_not_the_float_error() -> None:
    policy = load_default_policy()
    assert str(policy.yellow.temperature_at_least) == "37.3"


# --- malformed policies -----------------------------------------------------------------------


def test_error_message_names_file_and_dotted_field() -> None:
    document = base_document()
    document["yellow"]["temperature_at_least"] = "hot"
    with pytest.raises(PolicyError) as caught:
        parse(document, "policy.toml")
    assert str(caught.value) == "policy.toml: yellow.temperature_at_least: must be a number between 35 and 42"
    assert caught.value.source == "policy.toml"
    assert caught.value.field == "yellow.temperature_at_least"
    assert caught.value.reason == "must be a number between 35 and 42"


def _mutated(path: str, value: Any) -> dict[str, Any]:
    document = base_document()
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target[part]
    target[last] = value
    return document


def _without(path: str) -> dict[str, Any]:
    document = base_document()
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target[part]
    del target[last]
    return document


@pytest.mark.parametrize(
    ("document", "field", "reason_fragment"),
    [
        # unknown keys
        (_mutated("colour", "green"), "colour", "unknown key"),
        (_mutated("yellow.temprature_at_least", 37.3), "yellow.temprature_at_least", "unknown key"),
        (_mutated("recovery.green_days", 3), "recovery.green_days", "unknown key"),
        # missing required keys
        (_without("version"), "version", "required key is missing"),
        (_without("name"), "name", "required key is missing"),
        (_without("recovery"), "recovery", "required key is missing"),
        (_without("recovery.red_days"), "recovery.red_days", "required key is missing"),
        (_without("yellow"), "yellow", "required key is missing"),
        (_without("red"), "red", "required key is missing"),
        # wrong types
        (_mutated("version", 2020), "version", "must be a string"),
        (_mutated("version", "has spaces"), "version", "must be a string"),
        (_mutated("version", ""), "version", "must be a string"),
        (_mutated("name", "   "), "name", "non-empty string"),
        (_mutated("name", 7), "name", "non-empty string"),
        (_mutated("red", 5), "red", "must be a table"),
        (_mutated("recovery", [7, 14]), "recovery", "must be a table"),
        (_mutated("red.close_contact", "yes"), "red.close_contact", "must be true or false"),
        (_mutated("red.travel", "high"), "red.travel", "must be a list of: medium, high"),
        (_mutated("red.diagnoses", "confirmed"), "red.diagnoses", "must be a list of"),
        (_mutated("yellow.temperature_at_least", True), "yellow.temperature_at_least", "between 35 and 42"),
        (_mutated("yellow.temperature_at_least", [37.3]), "yellow.temperature_at_least", "between 35 and 42"),
        (_mutated("recovery.yellow_days", 7.5), "recovery.yellow_days", "whole number of days"),
        (_mutated("recovery.yellow_days", "7"), "recovery.yellow_days", "whole number of days"),
        (_mutated("recovery.red_days", True), "recovery.red_days", "whole number of days"),
        # out of range
        (_mutated("recovery.yellow_days", 0), "recovery.yellow_days", "between 1 and 365"),
        (_mutated("recovery.red_days", -14), "recovery.red_days", "between 1 and 365"),
        (_mutated("recovery.red_days", 366), "recovery.red_days", "between 1 and 365"),
        (_mutated("yellow.temperature_at_least", 34.9), "yellow.temperature_at_least", "between 35 and 42"),
        (_mutated("yellow.temperature_at_least", 42.1), "yellow.temperature_at_least", "between 35 and 42"),
        # unknown enum values
        (_mutated("red.travel", ["high", "low"]), "red.travel[1]", "unknown value 'low'"),
        (_mutated("red.travel", ["none"]), "red.travel[0]", "expected one of: medium, high"),
        (_mutated("red.diagnoses", ["none"]), "red.diagnoses[0]", "expected one of: suspected, confirmed"),
        (_mutated("red.diagnoses", ["Confirmed"]), "red.diagnoses[0]", "unknown value"),
        (_mutated("yellow.symptoms", "some"), "yellow.symptoms", 'must be "any" or a list of'),
        (_mutated("yellow.symptoms", ["fever", "sneezing"]), "yellow.symptoms[1]", "unknown value 'sneezing'"),
        (_mutated("yellow.symptoms", [1]), "yellow.symptoms[0]", "unknown value 1"),
    ],
)
def test_malformed_policy_is_refused_naming_the_field(
    document: dict[str, Any], field: str, reason_fragment: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse(document, "ops/policy-2020.toml")
    assert caught.value.field == field
    assert reason_fragment in caught.value.reason
    assert str(caught.value).startswith(f"ops/policy-2020.toml: {field}: ")


def test_nan_and_infinite_thresholds_are_refused() -> None:
    for literal in ("nan", "inf", "-inf"):
        text = DEFAULT_TEXT.replace("temperature_at_least = 37.3", f"temperature_at_least = {literal}")
        with pytest.raises(PolicyError, match=r"^p\.toml: yellow\.temperature_at_least: "):
            parse_policy(text, "p.toml")


def test_invalid_toml_is_refused_with_the_file_name() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy('version = "x"\n[recovery\nyellow_days = 7\n', "broken.toml")
    assert caught.value.source == "broken.toml"
    assert caught.value.field == "(document)"
    assert "not valid TOML" in str(caught.value)


def test_empty_document_reports_the_first_missing_key() -> None:
    with pytest.raises(PolicyError, match=r"^empty\.toml: \w+: required key is missing$"):
        parse_policy("", "empty.toml")


def test_policy_error_is_a_value_error() -> None:
    assert issubclass(PolicyError, ValueError)


def test_the_valid_base_document_parses() -> None:
    # Guards the table above: each failure is caused by its mutation, not by a broken base.
    policy = parse(base_document())
    assert policy.version == "test-1"
    assert policy.recovery.red_days == 14
