"""Typed callback data: one class per button family, encoded within Telegram's 64 bytes.

A family is a frozen dataclass naming its ``prefix`` and ``action``; its fields are the values the
button carries::

    @dataclass(frozen=True)
    class StaffPage(CallbackData, prefix="staff", action="page"):
        organisation_id: int
        undeclared_page: int
        not_green_page: int

    StaffPage(12, 0, 1).encode() == "staff:page:12.0.1"

The wire form is ``prefix:action`` followed by ``:`` and the fields joined by ``.`` when there are
any. :meth:`CallbackData.decode` validates a press against the declared types (ASCII digits for
``int``, a member's value for an enum, ISO dates) and returns ``None`` for anything else, so a forged
or stale press never reaches a handler as a half-parsed string. Encoding refuses data over 64 bytes at
the moment the button is built, and two families claiming the same prefix and action are refused
when the second class is defined, that is, at start-up.
"""
from __future__ import annotations

import dataclasses
import enum
import typing
from datetime import date
from typing import Any, ClassVar, TypeVar

from rules.validators import INTEGER_MAX, parse_number

MAX_BYTES = 64  # Telegram's limit for callback_data (1-64 bytes)
_FIELD_SEPARATOR = "."
_RESERVED = (":", _FIELD_SEPARATOR)

Family = TypeVar("Family", bound="CallbackData")


def text(max_length: int) -> Any:
    """A ``str`` field of at most ``max_length`` characters (invite codes, dates as text…): the bound
    keeps the family inside 64 bytes, and a longer value is refused both ways."""
    return dataclasses.field(metadata={"max_length": max_length})


def if_garbled(fallback: object) -> Any:
    """A field whose press, when it does not decode, still reaches the family with ``fallback`` here.

    For ids that name what the press acts on (an organisation): a forged value reads as an id nothing
    has, so the press meets its requirement like any press naming something the sender may not touch,
    and is refused and audited, instead of passing for a stale button. A family decodes this way only
    when every field declares a fallback."""
    return dataclasses.field(metadata={"if_garbled": fallback})


_NO_FALLBACK = object()


class CallbackDataError(ValueError):
    """A button that cannot be built: too long, or a value that would not decode back to itself."""


class DuplicateButtonFamily(RuntimeError):
    """Two button families claim the same prefix and action."""


class CallbackData:
    """Base of every button family. Subclasses are frozen dataclasses (see the module docstring)."""

    prefix: ClassVar[str]
    action: ClassVar[str]
    _families: ClassVar[dict[tuple[str, str], type[CallbackData]]] = {}

    def __init_subclass__(cls, *, prefix: str, action: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for part in (prefix, action):
            if not part or not part.isascii() or any(mark in part for mark in _RESERVED):
                raise DuplicateButtonFamily(f"{cls.__name__}: prefix and action must be plain ASCII, got {part!r}")
        key = (prefix, action)
        existing = CallbackData._families.get(key)
        # The same class defined again (a module imported twice, as tests may) is not a second claimant.
        if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise DuplicateButtonFamily(
                f"{cls.__module__}.{cls.__qualname__} and {existing.__module__}.{existing.__qualname__} "
                f"both claim the button family {prefix}:{action}"
            )
        cls.prefix, cls.action = prefix, action
        CallbackData._families[key] = cls

    # -- encoding --------------------------------------------------------------------------------

    def encode(self) -> str:
        head = f"{self.prefix}:{self.action}"
        values = []
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _encode_value(getattr(self, item.name))
            if len(value) > item.metadata.get("max_length", MAX_BYTES):
                raise CallbackDataError(f"{type(self).__name__}.{item.name} is longer than {item.metadata['max_length']}")
            values.append(value)
        data = f"{head}:{_FIELD_SEPARATOR.join(values)}" if values else head
        size = len(data.encode())
        if size > MAX_BYTES:
            raise CallbackDataError(f"{type(self).__name__}: callback data is {size} bytes, Telegram allows {MAX_BYTES}")
        return data

    # -- decoding --------------------------------------------------------------------------------

    @staticmethod
    def family_of(data: str) -> type[CallbackData] | None:
        prefix, _, rest = data.partition(":")
        action, _, _ = rest.partition(":")
        return CallbackData._families.get((prefix, action))

    @staticmethod
    def decode(data: str) -> CallbackData | None:
        """The press as its family's value, or None when no family matches or a value is malformed."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        family = CallbackData.family_of(data)
        if family is None:
            return None
        return family.parse(data)

    @classmethod
    def parse(cls: type[Family], data: str) -> Family | None:
        head = f"{cls.prefix}:{cls.action}"
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if not fields:
            return cls() if data == head else None
        if not data.startswith(head + ":"):
            return None
        raw = data[len(head) + 1:].split(_FIELD_SEPARATOR)
        hints = typing.get_type_hints(cls)
        try:
            if len(raw) != len(fields):
                raise ValueError("wrong number of values")
            values = [_decode_value(hints[item.name], value) for item, value in zip(fields, raw)]
            if any(len(value) > item.metadata.get("max_length", MAX_BYTES) for item, value in zip(fields, raw)):
                raise ValueError("value too long")
        except ValueError:
            fallbacks = [item.metadata.get("if_garbled", _NO_FALLBACK) for item in fields]
            if any(fallback is _NO_FALLBACK for fallback in fallbacks):
                return None
            return cls(*fallbacks)
        return cls(*values)

    @classmethod
    def families(cls) -> dict[tuple[str, str], type[CallbackData]]:
        return dict(CallbackData._families)


def _encode_value(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, (int, date)):
        text = value.isoformat() if isinstance(value, date) else str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise CallbackDataError(f"cannot put a {type(value).__name__} in callback data")
    if not text or any(mark in text for mark in _RESERVED):
        raise CallbackDataError(f"callback value {text!r} is empty or holds a separator")
    return text


def _decode_value(kind: Any, text: str) -> object:
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if kind is int:
        number = parse_number(text, maximum=INTEGER_MAX)
        if number is None:
            raise ValueError(text)
        return number
    if kind is date:
        if not text.isascii():
            raise ValueError(text)
        return date.fromisoformat(text)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(text)
    if kind is str:
        if not text:
            raise ValueError(text)
        return text
    raise TypeError(f"unsupported callback field type {kind!r}")
