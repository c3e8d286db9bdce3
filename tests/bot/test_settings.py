"""Every bad setting is reported with its variable name and the reason."""
from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("HEALTHCODE_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("HEALTHCODE_ADMIN_IDS", "12,abc", "is not a Telegram user id"),
        ("HEALTHCODE_ISSUER", "330100", "must look like CN-330100"),
        ("HEALTHCODE_PUBLIC_URL", "hc.example.cn", "is not an http(s) URL"),
        ("HEALTHCODE_WEBHOOK_URL", "http://hc.example.cn/hook", "https://"),
        ("HEALTHCODE_DATABASE_URL", "mysql://x/y", "sqlite+aiosqlite:// or postgresql+asyncpg://"),
        ("HEALTHCODE_WEB_PORT", "70000", "less than or equal to 65535"),
        ("HEALTHCODE_WEB_PORT", "eighty", "valid integer"),
        ("HEALTHCODE_WEB_WORKERS", "0", "greater than or equal to 1"),
        ("HEALTHCODE_WEB_WORKERS", "many", "valid integer"),
        ("HEALTHCODE_DEFAULT_LANGUAGE", "fr", "must be zh-CN or en"),
        ("HEALTHCODE_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING or ERROR"),
        ("HEALTHCODE_REMINDER_TIME", "8am", "HH:MM"),
        ("HEALTHCODE_RETENTION_DAYS", "3", "greater than or equal to 15"),
        ("HEALTHCODE_WEBHOOK_SECRET", "has spaces", "A-Z, a-z, 0-9, _ and -"),
        ("HEALTHCODE_WEBHOOK_SECRET", "x" * 257, "1-256 characters"),
        ("HEALTHCODE_TELEGRAM_RATE", "0", "greater than or equal to 1"),
        ("HEALTHCODE_DATABASE_POOL_SIZE", "0", "greater than or equal to 1"),
    ],
)
def test_bad_values_name_the_variable_and_the_reason(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert f"{variable}: " in str(raised.value) and reason in str(raised.value)


def test_several_bad_values_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHCODE_TIMEZONE", "Nowhere")
    monkeypatch.setenv("HEALTHCODE_ISSUER", "x")
    message = str(pytest.raises(SettingsError, load_settings, _env_file=None).value)
    assert "HEALTHCODE_TIMEZONE" in message and "HEALTHCODE_ISSUER" in message


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTHCODE_ADMIN_IDS", "12, 34 56")
    monkeypatch.setenv("HEALTHCODE_PUBLIC_URL", "https://hc.example.cn/")
    monkeypatch.setenv("HEALTHCODE_TRUSTED_ISSUERS", "a.json, https://b.example/list.json")
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == frozenset({12, 34, 56})
    assert settings.public_url == "https://hc.example.cn"
    assert settings.trusted_issuers == ("a.json", "https://b.example/list.json")
    assert str(settings.tz) == "Asia/Shanghai"


def test_dotenv_file_is_read(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("HEALTHCODE_ISSUER=CN-310100\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().issuer == "CN-310100"
