"""Validators: every accepted form and every rejection code."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
import unicodedata
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.regions import parse_region_table
from rules.validators import (
    NAME_MAX_LENGTH,
    ResidentId,
    ValidationError,
    credit_code_check_char,
    mask_name,
    masked_phone,
    resident_id_check_char,
    validate_credit_code,
    validate_name,
    validate_org_name,
    validate_phone,
    validate_region_code,
    validate_resident_id,
    validate_temperature,
)

TODAY = date(2020, 2, 15)
# rules/ is handed the parsed table; the application reads the file in bot.regions, the tests here.
TABLE = parse_region_table(resources.files("rules").joinpath("data/gb2260.tsv").read_text(encoding="utf-8"))
SETTINGS = settings(max_examples=150, deadline=None)


@contextmanager
def rejected(code: str) -> Iterator[None]:
    """Expect a ValidationError with exactly this code, for the field the code starts with."""
    with pytest.raises(ValidationError) as caught:
        yield
    assert caught.value.code == code
    assert caught.value.field == code.split(".")[0]
    assert str(caught.value).startswith(f"{caught.value.field}: {code}")


# --- independent reference implementations (written from the standards' definitions) ----------


def iso7064_mod11_2(first17: str) -> str:
    """GB 11643 check character derived from ISO 7064 MOD 11-2, not from the validator's tables.

    Weights are 2^(position from the right) mod 11; the check value c makes the weighted sum
    including c congruent to 1 mod 11, and 10 is written X.
    """
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(first17))
    check = (1 - total) % 11
    return "X" if check == 10 else str(check)


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def gb32100_check(first17: str) -> str:
    """Check character with weights 3^i mod 31, as GB 32100-2015 defines them."""
    total = sum(CREDIT_ALPHABET.index(ch) * pow(3, index, 31) for index, ch in enumerate(first17))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def make_id(birth: str = "19900307", area: str = "330106", sequence: str = "123") -> str:
    body = area + birth + sequence
    return body + iso7064_mod11_2(body)


# --- resident ID ------------------------------------------------------------------------------


def test_standard_example_id_is_valid() -> None:
    resident = validate_resident_id("11010519491231002X", TODAY, TABLE)
    assert resident.value == "11010519491231002X"
    assert resident.birth_date == date(1949, 12, 31)
    assert resident.sex == "female"
    assert resident.masked() == "1101**********002X"


def test_pre_1900_standard_example_has_a_correct_check_char_but_is_refused_by_the_1900_rule() -> None:
    # 440524188001010014 is the other example in GB 11643-1999; its holder was born in 1880.
    assert resident_id_check_char("44052418800101001") == "4"
    assert iso7064_mod11_2("44052418800101001") == "4"
    with rejected("resident_id.birth_date"):
        validate_resident_id("440524188001010014", TODAY, TABLE)


@pytest.mark.parametrize(
    "literal",
    ["11010519491231002X", "440524188001010014", "330106199003071236", "440305200001010013"],
)
def test_reference_helper_agrees_with_the_validator(literal: str) -> None:
    assert iso7064_mod11_2(literal[:17]) == resident_id_check_char(literal[:17])


def test_literal_ids_with_a_hand_computed_check_char_are_accepted() -> None:
    # 44030520000101001: weighted sum 119, 119 mod 11 = 9 -> "3".
    # 33010619900307123: weighted sum 226, 226 mod 11 = 6 -> "6".
    shenzhen = validate_resident_id("440305200001010013", TODAY, TABLE)
    assert (shenzhen.birth_date, shenzhen.sex) == (date(2000, 1, 1), "male")
    hangzhou = validate_resident_id("330106199003071236", TODAY, TABLE)
    assert (hangzhou.birth_date, hangzhou.sex) == (date(1990, 3, 7), "male")
    with rejected("resident_id.checksum"):
        validate_resident_id("110105194912310029", TODAY, TABLE)  # same body as the standard's ...002X


def test_computed_id_and_sex_from_the_seventeenth_digit() -> None:
    male = validate_resident_id(make_id(sequence="123"), TODAY, TABLE)
    female = validate_resident_id(make_id(sequence="124"), TODAY, TABLE)
    assert (male.sex, female.sex) == ("male", "female")
    assert male.birth_date == date(1990, 3, 7)
    assert male.province_prefix == "33"


@pytest.mark.parametrize(
    "typed",
    [
        "11010519491231002x",
        " 11010519491231002X ",
        "110105 19491231 002X",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as typed with a Chinese input method
    ],
)
def test_id_input_is_normalised(typed: str) -> None:
    assert validate_resident_id(typed, TODAY, TABLE).value == "11010519491231002X"


def test_masked_id_shows_first_four_and_last_four() -> None:
    value = make_id(area="330100", sequence="123")
    masked = validate_resident_id(value, TODAY, TABLE).masked()
    assert masked == value[:4] + "**********" + value[-4:]
    assert len(masked) == 18


def test_resident_id_never_shows_the_full_number_in_repr_or_str() -> None:
    resident = validate_resident_id("11010519491231002X", TODAY, TABLE)
    assert "11010519491231002X" not in repr(resident)
    assert "19491231" not in repr(resident)
    assert str(resident) == "1101**********002X"


@pytest.mark.parametrize(
    "value", ["", "1101051949123100", "11010519491231002", "11010519491231002X1", "110105491231002"]
)
def test_wrong_length_is_refused(value: str) -> None:
    with rejected("resident_id.length"):
        validate_resident_id(value, TODAY, TABLE)


@pytest.mark.parametrize(
    "value",
    [
        "1101051949123100XX",  # X before the last place
        "11010X194912310029",
        "X10105194912310029",
        "11010519491231002A",
        "1101051949-231002X",
        "11010519491231002?",
    ],
)
def test_characters_other_than_digits_and_a_final_x_are_refused(value: str) -> None:
    with rejected("resident_id.characters"):
        validate_resident_id(value, TODAY, TABLE)


def test_wrong_check_char_is_refused() -> None:
    for wrong in "0123456789X":
        if wrong != "X":
            with rejected("resident_id.checksum"):
                validate_resident_id("11010519491231002" + wrong, TODAY, TABLE)


def test_impossible_birth_date_is_refused() -> None:
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth="19990230"), TODAY, TABLE)
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth="19991301"), TODAY, TABLE)
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth="19990000"), TODAY, TABLE)


def test_birth_date_must_be_before_today() -> None:
    tomorrow = (TODAY + timedelta(days=1)).strftime("%Y%m%d")
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth=tomorrow), TODAY, TABLE)
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth=TODAY.strftime("%Y%m%d")), TODAY, TABLE)
    yesterday = TODAY - timedelta(days=1)
    assert validate_resident_id(make_id(birth=yesterday.strftime("%Y%m%d")), TODAY, TABLE).birth_date == yesterday


def test_birth_year_1900_is_the_earliest_accepted() -> None:
    assert validate_resident_id(make_id(birth="19000101"), TODAY, TABLE).birth_date == date(1900, 1, 1)
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth="18991231"), TODAY, TABLE)


def test_leap_day_is_a_real_date_only_in_leap_years() -> None:
    assert validate_resident_id(make_id(birth="20000229"), TODAY, TABLE).birth_date == date(2000, 2, 29)
    with rejected("resident_id.birth_date"):
        validate_resident_id(make_id(birth="19000229"), TODAY, TABLE)


@pytest.mark.parametrize("area", ["000000", "100000", "200000", "390000", "720000", "990000"])
def test_unknown_province_is_refused(area: str) -> None:
    with rejected("resident_id.province"):
        validate_resident_id(make_id(area=area), TODAY, TABLE)


@pytest.mark.parametrize("prefix", ["71", "81", "82", "54", "65"])
def test_every_provincial_prefix_is_accepted(prefix: str) -> None:
    assert validate_resident_id(make_id(area=prefix + "0000"), TODAY, TABLE).province_prefix == prefix


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY - timedelta(days=1))
province_prefixes = st.sampled_from([r.province_prefix for r in TABLE.provinces()])


@SETTINGS
@given(
    prefix=province_prefixes,
    area_tail=st.text("0123456789", min_size=4, max_size=4),
    birth=birth_dates,
    sequence=st.text("0123456789", min_size=3, max_size=3),
)
def test_any_well_formed_id_is_accepted(prefix: str, area_tail: str, birth: date, sequence: str) -> None:
    value = make_id(birth=birth.strftime("%Y%m%d"), area=prefix + area_tail, sequence=sequence)
    resident = validate_resident_id(value, TODAY, TABLE)
    assert resident == ResidentId(value, birth, "male" if int(sequence[2]) % 2 else "female")


@SETTINGS
@given(
    birth=birth_dates,
    sequence=st.text("0123456789", min_size=3, max_size=3),
    position=st.integers(0, 16),
    shift=st.integers(1, 9),
)
def test_any_single_digit_typo_is_caught(birth: date, sequence: str, position: int, shift: int) -> None:
    value = make_id(birth=birth.strftime("%Y%m%d"), sequence=sequence)
    typo = value[:position] + str((int(value[position]) + shift) % 10) + value[position + 1 :]
    with pytest.raises(ValidationError):
        validate_resident_id(typo, TODAY, TABLE)


# --- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        " 13812345678 ",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "+86-138-1234-5678",
        "8613812345678",
        "86 138 1234 5678",
        "１３８１２３４５６７８",
    ],
)
def test_phone_forms_are_normalised(typed: str) -> None:
    assert validate_phone(typed) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_all_mobile_prefixes_are_accepted(prefix: str) -> None:
    assert validate_phone(prefix + "012345678") == prefix + "012345678"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("12812345678", "phone.prefix"),
        ("10812345678", "phone.prefix"),
        ("23812345678", "phone.prefix"),
        ("1381234567", "phone.length"),
        ("138123456789", "phone.length"),
        ("008613812345678", "phone.length"),
        ("", "phone.length"),
        ("   ", "phone.length"),
        ("138abcd5678", "phone.characters"),
        ("(138)12345678", "phone.characters"),
        ("+85212345678", "phone.characters"),
    ],
)
def test_bad_phone_numbers_are_refused(typed: str, code: str) -> None:
    with rejected(code):
        validate_phone(typed)


def test_masked_phone() -> None:
    assert masked_phone("13812345678") == "138****5678"


# --- temperature ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("36.6", "36.6"),
        ("36,6", "36.6"),
        (" 36.6 ", "36.6"),
        ("36.6°C", "36.6"),
        ("36.6℃", "36.6"),
        ("36.6 °C", "36.6"),
        ("36.6°", "36.6"),
        ("３６．６", "36.6"),
        ("36", "36.0"),
        ("36.", "36.0"),
        ("36.65", "36.7"),  # half up
        ("36.75", "36.8"),
        ("36.64", "36.6"),
        ("37.25", "37.3"),
        ("34", "34.0"),
        ("34.0", "34.0"),
        ("43.0", "43.0"),
        ("33.95", "34.0"),  # rounds into range
        ("43.04", "43.0"),
        ("+36.6", "36.6"),
    ],
)
def test_temperature_forms(typed: str, expected: str) -> None:
    value = validate_temperature(typed)
    assert value == Decimal(expected)
    assert str(value) == expected  # exactly one decimal place


@pytest.mark.parametrize("typed", ["33.9", "33.94", "43.1", "43.05", "-36.6", "0", "98.6", "366"])
def test_temperature_out_of_range(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_temperature(typed)
    assert caught.value.code == "temperature.out_of_range"
    assert caught.value.field == "temperature"
    assert caught.value.message_params == {"min": "34.0", "max": "43.0"}


@pytest.mark.parametrize(
    "typed", ["", "  ", "abc", "NaN", "nan", "Infinity", "inf", "1e1", "36.6.1", "36,6,1", "°C", "36.6F", "三十六"]
)
def test_temperature_not_a_number(typed: str) -> None:
    with rejected("temperature.not_a_number"):
        validate_temperature(typed)


@SETTINGS
@given(st.decimals(min_value=Decimal("34.0"), max_value=Decimal("43.0"), places=1))
def test_every_one_decimal_reading_in_range_round_trips(value: Decimal) -> None:
    assert validate_temperature(str(value)) == value
    assert validate_temperature(str(value).replace(".", ",") + "℃") == value


# --- name -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张三", "张三"),
        ("  张三  ", "张三"),
        ("Li   Wei", "Li Wei"),
        ("Anna\tMaria\nSmith", "Anna Maria Smith"),
        ("张\u3000三", "张 三"),
        ("<b>Bob</b> & Co", "<b>Bob</b> & Co"),
        ("Zoë 😀", "Zoë 😀"),
        ("Li 👨\u200d👩\u200d👧", "Li 👨\u200d👩\u200d👧"),  # zero-width joiners inside an emoji stay
        ("e\u0301mile", "émile"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("x", "x"),
    ],
)
def test_names_are_normalised_and_kept_as_typed(typed: str, expected: str) -> None:
    assert validate_name(typed) == expected


def test_name_length_limit() -> None:
    assert validate_name("a" * NAME_MAX_LENGTH) == "a" * NAME_MAX_LENGTH
    assert validate_name("  " + "名" * NAME_MAX_LENGTH + "  ") == "名" * NAME_MAX_LENGTH
    with pytest.raises(ValidationError) as caught:
        validate_name("a" * (NAME_MAX_LENGTH + 1))
    assert caught.value.code == "name.too_long"
    assert caught.value.message_params == {"max": "50"}


@pytest.mark.parametrize("typed", ["", "   ", "\n\t", "\u3000"])
def test_empty_name_is_refused(typed: str) -> None:
    with rejected("name.empty"):
        validate_name(typed)


@pytest.mark.parametrize("typed", ["a\x00b", "Bob\x07", "a\x7fb", "\x1b[31mRed", "\u202eevil", "ab\u2066c"])
def test_control_characters_are_refused(typed: str) -> None:
    with rejected("name.control_characters"):
        validate_name(typed)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张", "张*"),
        ("欧阳娜娜", "欧***"),
        ("阿依古丽·买买提", "阿*******"),
        ("山田太郎", "山***"),
        ("Abigail", "Ab***"),
        ("Li Wei", "Li***"),
        ("Al", "Al***"),
        ("A", "A***"),
        ("Élodie", "Él***"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_name_never_returns_the_whole_name() -> None:
    for name in ("张", "Al", "A", "Bob"):
        assert mask_name(name) != name


# --- region code ------------------------------------------------------------------------------


def test_region_codes_for_cities_and_provinces() -> None:
    hangzhou = validate_region_code("330100", TABLE)
    assert (hangzhou.name_zh, hangzhou.name_en, hangzhou.level) == ("杭州市", "Hangzhou", "city")
    assert validate_region_code(" 330000 ", TABLE).level == "province"
    assert validate_region_code("110100", TABLE).name_en == "Beijing"
    assert validate_region_code("４４０３００", TABLE).name_en == "Shenzhen"


@pytest.mark.parametrize(
    ("typed", "name_en"),
    [
        ("330106", "Xihu District"),  # a district of Hangzhou
        ("３３０１０６", "Xihu District"),  # typed with a Chinese input method
        ("500229", "Chengkou County"),  # a Chongqing county
        ("429004", "Xiantao City"),  # a county-level city under Hubei directly
        ("152921", "Alashan Left Banner"),
    ],
)
def test_county_level_region_codes(typed: str, name_en: str) -> None:
    region = validate_region_code(typed, TABLE)
    assert (region.name_en, region.level) == (name_en, "county")


def test_region_codes_are_judged_by_the_table_handed_in() -> None:
    only_zhejiang = parse_region_table("code\tname_zh\tname_en\n330000\t浙江省\tZhejiang\n")
    assert validate_region_code("330000", only_zhejiang).name_en == "Zhejiang"
    with rejected("region.unknown"):
        validate_region_code("330100", only_zhejiang)
    with rejected("resident_id.province"):
        validate_resident_id("11010519491231002X", TODAY, only_zhejiang)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("33010", "region.format"),
        ("33010a", "region.format"),
        ("", "region.format"),
        ("3301000", "region.format"),
        ("330101", "region.unknown"),  # the old "市辖区" placeholder, not a division
        ("330113", "region.unknown"),  # Linping, created after the table's 2020-12 edition
        ("371200", "region.unknown"),  # Laiwu, abolished 2019
        ("000000", "region.unknown"),
    ],
)
def test_bad_region_codes(typed: str, code: str) -> None:
    with rejected(code):
        validate_region_code(typed, TABLE)


# --- unified social credit code ---------------------------------------------------------------


@pytest.mark.parametrize("literal", ["91350100M000100Y43", "914403001922038216"])
def test_known_credit_codes_are_valid(literal: str) -> None:
    assert validate_credit_code(literal) == literal
    assert gb32100_check(literal[:17]) == literal[17]


def test_credit_code_is_normalised() -> None:
    assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"
    assert validate_credit_code("9135 0100 M000 100Y 43") == "91350100M000100Y43"


def test_check_value_31_is_written_zero() -> None:
    # Body whose weighted sum is a multiple of 31: all zeros.
    assert credit_code_check_char("0" * 17) == "0"
    assert validate_credit_code("0" * 18) == "0" * 18


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("91350100M000100Y4", "credit_code.length"),
        ("91350100M000100Y433", "credit_code.length"),
        ("", "credit_code.length"),
        ("91350100M000100Y44", "credit_code.checksum"),
        ("91350100I000100Y43", "credit_code.characters"),  # I, O, S, V, Z are not in the alphabet
        ("91350100O000100Y43", "credit_code.characters"),
        ("91350100S000100Y43", "credit_code.characters"),
        ("91350100V000100Y43", "credit_code.characters"),
        ("91350100Z000100Y43", "credit_code.characters"),
        ("91350100-000100Y43", "credit_code.characters"),
    ],
)
def test_bad_credit_codes(typed: str, code: str) -> None:
    with rejected(code):
        validate_credit_code(typed)


@SETTINGS
@given(body=st.text(CREDIT_ALPHABET, min_size=17, max_size=17), wrong=st.sampled_from(CREDIT_ALPHABET))
def test_credit_code_check_matches_the_reference(body: str, wrong: str) -> None:
    check = gb32100_check(body)
    assert validate_credit_code(body + check) == body + check
    if wrong != check:
        with rejected("credit_code.checksum"):
            validate_credit_code(body + wrong)


# --- errors are safe and specific -------------------------------------------------------------


def test_validation_error_carries_field_code_and_params() -> None:
    error = ValidationError("name", "name.too_long", {"max": "50"})
    assert (error.field, error.code, error.message_params) == ("name", "name.too_long", {"max": "50"})
    assert str(error) == "name: name.too_long (max=50)"
    assert str(ValidationError("phone", "phone.prefix")) == "phone: phone.prefix"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("validator", "secret"),
    [
        (lambda s: validate_resident_id(s, TODAY, TABLE), "11010519491231002Y"),
        (lambda s: validate_resident_id(s, TODAY, TABLE), "110105194912310028"),
        (validate_phone, "12812345678"),
        (validate_temperature, "48.6"),
        (validate_name, "张三\x00"),
        (validate_credit_code, "91350100M000100Y44"),
    ],
)
def test_errors_never_echo_the_input(validator, secret: str) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as caught:
        validator(secret)
    text = str(caught.value) + repr(caught.value.message_params)
    assert secret not in text
    assert secret[:6] not in text


# --- invisible names (issue 9, item 14) -------------------------------------------------------

# Characters that draw nothing on their own: zero-width space, BOM, word joiner, soft hyphen, the
# Hangul fillers, the braille blank, combining marks and variation selectors.
_INVISIBLE = ["\u200b", "\ufeff", "\u2060", "\u00ad", "\u3164", "\u115f", "\u2800", "\u0301", "\u0308", "\ufe0f"]
_invisible_or_space = st.text(st.sampled_from([*_INVISIBLE, " ", "\u3000", "\t"]), min_size=1, max_size=12)
_NAME_VALIDATORS = [(validate_name, "name"), (validate_org_name, "org_name")]


@pytest.mark.parametrize(("validator", "field"), _NAME_VALIDATORS)
@pytest.mark.parametrize("typed", ["\u200b", "\ufeff", "\u2060", "\u00ad", "\u0301", "\u200b\u200b", "\u3164",
                                   "\u0301Li", "😀", "👨\u200d👩\u200d👧", "***", "123"])
def test_a_name_without_a_visible_letter_is_refused(validator, field: str, typed: str) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as caught:
        validator(typed)
    assert caught.value.field == field
    assert caught.value.code in {f"{field}.empty", f"{field}.control_characters", f"{field}.no_letter"}


@pytest.mark.parametrize(("validator", "field"), _NAME_VALIDATORS)
@SETTINGS
@given(typed=_invisible_or_space)
def test_names_made_only_of_invisible_characters_are_refused(validator, field: str, typed: str) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as caught:
        validator(typed)
    assert caught.value.field == field


def _visible(ch: str) -> bool:
    return not (ch.isspace() or ch == "*" or unicodedata.category(ch)[0] in "MCZ" or ch in "\u115f\u1160\u3164\uffa0\u2800")


@SETTINGS
@given(typed=st.text(max_size=20))
def test_every_accepted_name_masks_to_something_visible(typed: str) -> None:
    try:
        name = validate_name(typed)
    except ValidationError:
        return
    assert any(unicodedata.category(ch).startswith("L") for ch in name)
    assert any(_visible(ch) for ch in mask_name(name))
    assert validate_org_name(name) == name  # one rule for people and organisations


@pytest.mark.parametrize("typed", ["Li 👨\u200d👩\u200d👧", "Zoë 😀", "e\u0301mile", "张三", "3M 中国"])
def test_visible_names_with_joiners_emoji_and_marks_are_kept(typed: str) -> None:
    assert validate_name(typed) == unicodedata.normalize("NFC", typed)
    assert validate_org_name(typed) == unicodedata.normalize("NFC", typed)
