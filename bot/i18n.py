"""The one message catalogue: every user-visible string, in zh-CN (default) and en.

Catalogues are TOML data files in ``bot/locales/<language>/``, one file per feature
(``citizen.toml``, …), merged into one catalogue per language; a key defined twice
is an error. Translators never touch code. Keys are dotted (``registration.ask_name``);
values use ``str.format`` placeholders.
"""
from __future__ import annotations

import string
import tomllib
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.replies import Text

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


class CatalogueError(Exception):
    pass


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(dotted, value, out)
        elif isinstance(value, str):
            out[dotted] = value
        else:
            raise CatalogueError(f"{dotted}: catalogue values must be strings")


@cache
def _load(language: str) -> dict[str, str]:
    folder = resources.files("bot.locales").joinpath(language)
    messages: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        part: dict[str, str] = {}
        _flatten("", tomllib.loads(entry.read_text("utf-8")), part)
        clash = messages.keys() & part.keys()
        if clash:
            raise CatalogueError(f"{language}/{entry.name} defines keys already defined elsewhere: {sorted(clash)[:5]}")
        messages.update(part)
    return messages


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def language_for(telegram_language_code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick the initial language from Telegram's ``language_code`` (IETF tag)."""
    code = (telegram_language_code or "").lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh-CN"
    return default


def choose_language(chosen: str | None, telegram_language_code: str | None, default: str) -> str:
    """The one rule for a person's language: the one they chose, else their Telegram client's, else ``default``."""
    return chosen if chosen in LANGUAGES else language_for(telegram_language_code, default)


class Catalogue:
    def __init__(self, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.default_language = default_language
        for language in LANGUAGES:
            _load(language)

    def keys(self, language: str) -> set[str]:
        return set(_load(language))

    def has(self, key: str, language: str | None = None) -> bool:
        return key in _load(language or self.default_language)

    def text(self, language: str, key: str, **params: object) -> str:
        messages = _load(language if language in LANGUAGES else self.default_language)
        template = messages.get(key)
        if template is None:
            raise CatalogueError(f"message {key!r} missing from the {language} catalogue")
        return template.format(**params) if params else template

    def render(self, language: str, text: Text) -> str:
        """A use case's ``Text`` as the words a person reads: nested texts and lists rendered too."""
        params = {name: self._render_value(language, value) for name, value in text.params.items()}
        return self.text(language, text.key, **params)

    def _render_value(self, language: str, value: object) -> object:
        from bot.replies import Text

        if isinstance(value, Text):
            return self.render(language, value)
        if isinstance(value, list):
            separator = self.text(language, "common.separator")
            return separator.join(str(self._render_value(language, item)) for item in value)
        return value
