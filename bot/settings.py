"""The one settings object: environment variables prefixed HEALTHCODE_, plus an optional .env file."""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.database import parse_database_url
from storage.errors import DatabaseUrlError

ENV_PREFIX = "HEALTHCODE_"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable and the reason."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    database_url: str = "sqlite+aiosqlite:///./healthcode.db"
    public_url: str = "http://127.0.0.1:8080"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Asia/Shanghai"
    issuer: str = "CN-330100"
    policy_file: Path | None = None
    data_key_file: Path | None = None
    keys_dir: Path = Path("./.healthcode/keys")
    state_dir: Path = Path("./.healthcode")
    default_language: str = "zh-CN"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    # Processes serving the web side on that one port (SO_REUSEPORT): verification scales with cores.
    web_workers: int = Field(default=1, ge=1, le=64)
    webhook_url: str | None = None
    # The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token. Unset: `healthcode run` draws one at
    # start and hands it to its own worker processes; set it when processes start apart (several machines).
    webhook_secret: SecretStr | None = None
    # Requests per second Telegram accepts from this bot, all processes together (its documented ~30/s).
    telegram_rate: int = Field(default=30, ge=1, le=1000)
    # PostgreSQL connections each process keeps (no overflow): pool size × processes must stay under
    # the server's max_connections, which start-up checks.
    database_pool_size: int = Field(default=15, ge=1, le=500)
    log_level: str = "INFO"
    # Mutual recognition: other issuers' trust lists, as file paths or http(s) URLs, comma-separated.
    trusted_issuers: Annotated[tuple[str, ...], NoDecode] = ()
    trust_list_grace_hours: int = Field(default=24, ge=0, le=24 * 30)
    trust_list_validity_hours: int = Field(default=24, ge=1, le=24 * 30)
    trust_refresh_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # Bulk delivery (broadcasts and reminders).
    broadcast_rate: float = Field(default=25.0, gt=0, le=1000)
    reminder_time: str = "08:00"
    # Retention, in days.
    retention_days: int = Field(default=28, ge=15, le=3650)
    delivery_retention_days: int = Field(default=30, ge=1, le=3650)
    access_log_retention_days: int = Field(default=180, ge=1, le=3650)
    # Correction requests: reviewers are reminded after this many hours, and the next level up after twice it.
    correction_sla_hours: int = Field(default=24, ge=1, le=24 * 30)
    # The CJK font of the card's words and the paper code (bot.cjk_font): None = discovered.
    card_font: Path | None = None
    # How long a printed code (/print) is valid, in days: paper outlives the chat card.
    paper_days: int = Field(default=7, ge=1, le=14)
    # How many dependants a manager of an approved community (社区) organisation may act as guardian for
    # (everyone else: rules.family.MAX_DEPENDANTS, 5); never below that.
    community_dependants: int = Field(default=50, ge=5, le=500)
    # The Mini App: how old (seconds) the initData Telegram signed may be before the page must be reopened.
    miniapp_max_age: int = Field(default=3600, ge=60, le=7 * 24 * 3600)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> frozenset[int]:
        if isinstance(value, (set, frozenset, list, tuple)):
            return frozenset(int(v) for v in value)
        text = str(value or "").strip()
        if not text:
            return frozenset()
        ids = set()
        for part in re.split(r"[,\s]+", text):
            if not part:
                continue
            if not re.fullmatch(r"\d{1,15}", part):
                raise ValueError(f"{part!r} is not a Telegram user id (comma-separated whole numbers expected)")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("trusted_issuers", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, (list, tuple)):
            return tuple(str(v) for v in value)
        return tuple(part.strip() for part in str(value or "").split(",") if part.strip())

    @field_validator("reminder_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be a 24-hour local time HH:MM, such as 08:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}-\d{6}", value):
            raise ValueError("must look like CN-330100 (country code, dash, 6-digit GB/T 2260 region code)")
        return value

    @field_validator("public_url", "telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @field_validator("telegram_api_url")
    @classmethod
    def _bot_api_base(cls, value: str) -> str:
        # ptb appends the token directly: "…/bot" + "123:ABC".
        if not value.endswith("/bot"):
            raise ValueError(f"must end with /bot, like {DEFAULT_TELEGRAM_API_URL} (a self-hosted server: http://host:8081/bot)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"https://[^\s/]+(/\S*)?", value):
            raise ValueError("Telegram only delivers webhooks to https:// URLs")
        return value or None

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        # Telegram's rule for setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token)")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        try:
            parse_database_url(value)
        except DatabaseUrlError as error:  # its message never echoes the URL (it may hold a password)
            raise ValueError(str(error).removeprefix("HEALTHCODE_DATABASE_URL ")) from None
        return value

    @field_validator("card_font")
    @classmethod
    def _font_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} is not a file (a .ttf, .otf or .ttc font with CJK glyphs)")
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("must be zh-CN or en")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return upper

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one line per bad variable."""
    try:
        # Overrides are untyped on purpose, as the environment is: pydantic validates both at run time.
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in error["loc"] if isinstance(p, str)).upper()
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        if len(lines) == 1:  # the usual case: one line, naming the setting
            raise SettingsError(f"invalid setting {lines[0]}") from None
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
