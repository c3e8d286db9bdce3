"""The message catalogue: both languages define the same keys with the same placeholders."""
from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, Catalogue, CatalogueError, _load, language_for, placeholders
from rules.policy import REASON_CODES


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    reference = _load("en")
    for language in LANGUAGES:
        messages = _load(language)
        assert messages.keys() == reference.keys(), language
        for key, template in messages.items():
            assert placeholders(template) == placeholders(reference[key]), (language, key)


def test_every_reason_code_and_cause_can_be_rendered() -> None:
    catalogue = Catalogue()
    for code in REASON_CODES:
        assert catalogue.has(f"reason.{code}") and catalogue.has(f"cause.{code}")


def test_missing_key_names_the_key() -> None:
    with pytest.raises(CatalogueError, match="no.such.key"):
        Catalogue().text("en", "no.such.key")


@pytest.mark.parametrize(("code", "expected"), [("en-GB", "en"), ("zh-hans", "zh-CN"), ("zh-TW", "zh-CN"), (None, "zh-CN"),
                                                ("fr", "zh-CN")])
def test_initial_language_follows_telegram(code: str | None, expected: str) -> None:
    assert language_for(code) == expected
