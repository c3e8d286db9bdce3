"""HEALTHCODE_PAPER_DAYS and HEALTHCODE_CARD_FONT: validated like the other settings, one clear line each."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(("value", "reason"), [("15", "less than or equal to 14"), ("0", "greater than or equal to 1"),
                                               ("a week", "valid integer")])
def test_paper_days_outside_1_to_14_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, value: str,
                                                           reason: str) -> None:
    monkeypatch.setenv("HEALTHCODE_PAPER_DAYS", value)
    message = str(pytest.raises(SettingsError, load_settings, _env_file=None).value)
    assert message.startswith("invalid setting HEALTHCODE_PAPER_DAYS: ") and reason in message
    assert "\n" not in message


def test_paper_days_defaults_to_7_and_takes_14(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(_env_file=None).paper_days == 7
    monkeypatch.setenv("HEALTHCODE_PAPER_DAYS", "14")
    assert load_settings(_env_file=None).paper_days == 14


def test_a_card_font_that_is_not_a_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HEALTHCODE_CARD_FONT", str(tmp_path / "nope.ttc"))
    message = str(pytest.raises(SettingsError, load_settings, _env_file=None).value)
    assert message.startswith("invalid setting HEALTHCODE_CARD_FONT: ") and "is not a file" in message
    font = tmp_path / "font.ttf"
    font.write_bytes(b"\0")
    monkeypatch.setenv("HEALTHCODE_CARD_FONT", str(font))
    assert load_settings(_env_file=None).card_font == font
