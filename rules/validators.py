"""Validation and normalisation of what citizens type.

Every validator returns the normalised value or raises ``ValidationError(field, code, params)``.
``code`` is stable (``<field>.<problem>``) and keys the message catalogue; ``params`` only ever hold
limits such as a maximum length, never the rejected input, so errors are safe to log.

Input is NFKC-normalised first so full-width digits and letters typed with a Chinese input method
("１１０１…", "Ｘ") are accepted like their ASCII forms.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from rules.regions import Region, RegionTable

# --- errors -----------------------------------------------------------------------------------


class ValidationError(ValueError):
    """Input that cannot be accepted. ``code`` is the catalogue key, e.g. ``resident_id.checksum``."""

    def __init__(self, field: str, code: str, message_params: dict[str, str] | None = None) -> None:
        self.field = field
        self.code = code
        self.message_params: dict[str, str] = dict(message_params or {})
        detail = ", ".join(f"{key}={value}" for key, value in sorted(self.message_params.items()))
        super().__init__(f"{field}: {code}" + (f" ({detail})" if detail else ""))


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# --- names ------------------------------------------------------------------------------------

NAME_MAX_LENGTH = 50
ORG_NAME_MAX_LENGTH = 100
# Zero-width (non-)joiners are format characters that belong inside emoji sequences and some
# scripts' words; every other format character (zero-width space, BOM, word joiner, soft hyphen,
# bidirectional overrides that make a name display differently from what is stored) is refused.
_JOINERS = frozenset("\u200c\u200d")
# Letters and symbols that draw nothing: the Hangul fillers and the braille blank.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def validate_name(text: str) -> str:
    """A person's display name: see ``validate_display_name``; 1..50 characters."""
    return validate_display_name(text, "name", NAME_MAX_LENGTH)


def validate_org_name(text: str) -> str:
    """An organisation's name: the same rules as a person's, 1..100 characters."""
    return validate_display_name(text, "org_name", ORG_NAME_MAX_LENGTH)


def validate_display_name(text: str, field: str, max_length: int) -> str:
    """A name others will see: trimmed, inner whitespace collapsed, no control or invisible
    characters, at least one visible letter, and a visible first character (masking keeps the
    first characters, so a name must never mask to a blank).

    ``<``, ``&``, quotes and emoji are kept as typed: escaping is the renderer's job. Length counts
    code points, not graphemes. Codes: ``<field>.empty``, ``.control_characters``, ``.no_letter``,
    ``.too_long``.
    """
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise ValidationError(field, f"{field}.empty")
    if any(_is_control_or_invisible(ch) for ch in name):
        raise ValidationError(field, f"{field}.control_characters")
    if not any(_is_visible_letter(ch) for ch in name) or unicodedata.category(name[0]).startswith("M"):
        raise ValidationError(field, f"{field}.no_letter")
    if len(name) > max_length:
        raise ValidationError(field, f"{field}.too_long", {"max": str(max_length)})
    return name


def _is_control_or_invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    # Cc control, Cf format, Cn unassigned, Co private use, Cs surrogate: none draws a known glyph.
    return (category.startswith("C") and ch not in _JOINERS) or ch in _BLANK_LOOKING


def _is_visible_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and ch not in _BLANK_LOOKING


def mask_name(name: str) -> str:
    """Hide most of a name for display to others.

    Names that start with a CJK character (Chinese family name first) keep that character and show
    one ``*`` for every further character, at least one: 张三 → 张*, 欧阳娜娜 → 欧***, 张 → 张*.
    Any other name keeps its first two characters followed by exactly three stars, so the length is
    not revealed: Abigail → Ab***, Li Wei → Li***.
    """
    name = name.strip()
    if not name:
        return "*"
    if _is_cjk(name[0]):
        return name[0] + "*" * max(1, len(name) - 1)
    return name[:2] + "***"


def _is_cjk(ch: str) -> bool:
    # Wide letters: Han ideographs, kana and hangul, but not emoji (those are symbols, not letters).
    return unicodedata.category(ch) == "Lo" and unicodedata.east_asian_width(ch) in ("W", "F")


# --- resident identity numbers (GB 11643-1999) -------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900

Sex = Literal["male", "female"]


def resident_id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A checked 18-character resident identity number."""

    value: str = field(repr=False)
    birth_date: date = field(repr=False)
    sex: Sex = field(repr=False)

    def masked(self) -> str:
        """First 4 and last 4 characters, 10 stars between: 3301**********123X."""
        return f"{self.value[:4]}{'*' * 10}{self.value[-4:]}"

    @property
    def province_prefix(self) -> str:
        return self.value[:2]

    def __repr__(self) -> str:  # never let the full number reach a log line
        return f"ResidentId({self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()


def validate_resident_id(text: str, today: date, table: RegionTable) -> ResidentId:
    """Check an 18-character resident ID: format, check character, province (in ``table``), birth date."""
    value = "".join(_nfkc(text).split()).upper()
    if len(value) != 18:
        raise ValidationError("resident_id", "resident_id.length", {"length": "18"})
    body, check = value[:17], value[17]
    if not (body.isascii() and body.isdigit() and (check == "X" or (check.isascii() and check.isdigit()))):
        raise ValidationError("resident_id", "resident_id.characters")
    if resident_id_check_char(body) != check:
        raise ValidationError("resident_id", "resident_id.checksum")
    if not table.is_province_prefix(value[:2]):
        raise ValidationError("resident_id", "resident_id.province")
    birth = _birth_date(value[6:14])
    if birth is None or birth.year < _EARLIEST_BIRTH_YEAR or birth >= today:
        raise ValidationError("resident_id", "resident_id.birth_date")
    sex: Sex = "male" if int(value[16]) % 2 == 1 else "female"
    return ResidentId(value=value, birth_date=birth, sex=sex)


def _birth_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


# --- phone numbers ----------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-]+")


def validate_phone(text: str) -> str:
    """A mainland mobile number as 11 digits; spaces, dashes and a +86 / 86 prefix are tolerated."""
    phone = _PHONE_SEPARATORS.sub("", _nfkc(text))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    if phone and not (phone.isascii() and phone.isdigit()):
        raise ValidationError("phone", "phone.characters")
    if len(phone) != 11:
        raise ValidationError("phone", "phone.length", {"length": "11"})
    if not _MOBILE.fullmatch(phone):
        raise ValidationError("phone", "phone.prefix")
    return phone


def masked_phone(phone: str) -> str:
    """138****5678: the first 3 and last 4 digits of a validated number."""
    return f"{phone[:3]}****{phone[-4:]}"


# --- temperature ------------------------------------------------------------------------------

TEMPERATURE_MIN = Decimal("34.0")
TEMPERATURE_MAX = Decimal("43.0")
_TENTH = Decimal("0.1")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_UNIT_SUFFIXES = ("°C", "°c", "°", "C", "c")  # NFKC turns "℃" into "°C"


def validate_temperature(text: str) -> Decimal:
    """Degrees Celsius with one decimal place (half-up), 34.0–43.0 inclusive.

    Accepts "36.6", "36,6", " 36.6 ", "36.6°C", "36.6℃".
    """
    cleaned = _nfkc(text).strip()
    for suffix in _UNIT_SUFFIXES:
        if cleaned.endswith(suffix):
            cleaned = cleaned[: -len(suffix)].rstrip()
            break
    cleaned = cleaned.replace(",", ".")
    # A strict pattern first: Decimal itself would also accept "NaN", "Infinity" and "1e1".
    if not _NUMBER.fullmatch(cleaned):
        raise ValidationError("temperature", "temperature.not_a_number")
    try:
        value = Decimal(cleaned).quantize(_TENTH, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValidationError("temperature", "temperature.not_a_number") from None
    if not TEMPERATURE_MIN <= value <= TEMPERATURE_MAX:
        raise ValidationError(
            "temperature", "temperature.out_of_range", {"min": str(TEMPERATURE_MIN), "max": str(TEMPERATURE_MAX)}
        )
    return value


# --- region codes -----------------------------------------------------------------------------


def validate_region_code(text: str, table: RegionTable) -> Region:
    """A six-digit GB/T 2260 code of a province, prefecture-level city or county-level division in ``table``."""
    code = _nfkc(text).strip()
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        raise ValidationError("region", "region.format")
    region = table.get(code)
    if region is None:
        raise ValidationError("region", "region.unknown")
    return region


# --- unified social credit codes (GB 32100-2015) -----------------------------------------------

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(
        _CREDIT_ALPHABET.index(ch) * weight for ch, weight in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(text: str) -> str:
    """An 18-character unified social credit code, upper-cased, with a correct check character."""
    code = "".join(_nfkc(text).split()).upper()
    if len(code) != 18:
        raise ValidationError("credit_code", "credit_code.length", {"length": "18"})
    if any(ch not in _CREDIT_ALPHABET for ch in code):
        raise ValidationError("credit_code", "credit_code.characters")
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError("credit_code", "credit_code.checksum")
    return code


# --- numbers in commands and buttons ----------------------------------------------------------

INTEGER_MAX = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's BIGINT: ids, counts and stamps must fit
_INTEGER_MAX_DIGITS = len(str(INTEGER_MAX))


def parse_number(text: str, *, minimum: int = 0, maximum: int = INTEGER_MAX) -> int | None:
    """A whole number written in ASCII digits, from ``minimum`` to ``maximum``; otherwise None.

    The one parser for ids, pages, days and stamps in commands and callback data. ``str.isdigit()``
    is true for "²" (which ``int`` refuses) and "٣" (which ``int`` reads), and an unbounded number
    overflows the database's 64-bit integers; the length check comes first, so ``int`` never sees
    thousands of digits. No sign, no spaces, no underscores.
    """
    if not 0 < len(text) <= _INTEGER_MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def parse_id(text: str) -> int | None:
    """A database id (1 upwards) in ASCII digits, or None."""
    return parse_number(text, minimum=1)
