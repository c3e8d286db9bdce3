"""End-to-end harness: the real ptb Application, the local Bot API, a real database."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi, SentMessage
from bot.local.chat import LocalChat, LocalUser
from bot.services.context import Services
from bot.settings import load_settings

# 09:00 in Shanghai on a Monday.
START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
VALID_IDS = ("11010519491231002X", "310115199212124560", "33010619900101123X", "330102198505053214")
ADMIN_ID = 900001


def make_settings(tmp_path: Path, database_url: str, **overrides: object):
    values: dict[str, object] = {
        "_env_file": None,
        "database_url": database_url,
        "state_dir": tmp_path / "state",
        "keys_dir": tmp_path / "keys",
        "public_url": "https://hc.example.cn",
        "admin_ids": frozenset({ADMIN_ID}),
        "default_language": "en",
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Harness:
    services: Services
    application: Application
    api: LocalBotApi
    chat: LocalChat
    clock: ManualClock

    async def say(self, user: LocalUser, text: str) -> list[SentMessage]:
        return await self.chat.send_text(user, text)

    async def press(self, user: LocalUser, selector: int | str) -> list[SentMessage]:
        return await self.chat.press(user, selector)

    def next_day(self, days: int = 1) -> None:
        self.clock.advance(timedelta(days=days))

    async def register(self, user: LocalUser, *, name: str = "张三", resident_id: str = VALID_IDS[0],
                       phone: str = "13800138000", region: str = "330100") -> list[SentMessage]:
        await self.say(user, "/start")
        await self.press(user, "I agree")
        await self.say(user, name)
        await self.say(user, resident_id)
        await self.say(user, phone)
        await self.say(user, region)
        return await self.press(user, "Confirm")

    async def declare(self, user: LocalUser, *, temperature: str = "36.6", symptoms: tuple[str, ...] = (),
                      contact: bool = False, travel: str = "none", diagnosis: str = "none") -> list[SentMessage]:
        await self.say(user, "/checkin")
        offer = self.chat.latest_with_buttons(user)
        if offer is not None and any(data == "ci:full" for row in offer.buttons for _, data in row):
            await self.chat.press_data(user, offer, "ci:full")  # yesterday was normal: answer every question anyway
        await self.say(user, temperature)
        target = self.chat.latest_with_buttons(user)
        for symptom in symptoms:
            await self.chat.press_data(user, target, f"ci:sym:{symptom}")
        await self.chat.press_data(user, self.chat.latest_with_buttons(user), "ci:sym:done")
        await self.chat.press_data(user, self.chat.latest_with_buttons(user), f"ci:contact:{'yes' if contact else 'no'}")
        await self.chat.press_data(user, self.chat.latest_with_buttons(user), f"ci:travel:{travel}")
        await self.chat.press_data(user, self.chat.latest_with_buttons(user), f"ci:diag:{diagnosis}")
        return await self.press(user, "Confirm")


async def start_harness(tmp_path: Path, database_url: str, clock: ManualClock | None = None, **overrides: object) -> Harness:
    clock = clock or ManualClock(START)
    services = await create_services(make_settings(tmp_path, database_url, **overrides), clock, local=True)
    api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
    application = build_application(services, request=api)
    await application.initialize()
    return Harness(services, application, api, LocalChat(application, api), clock)


async def stop_harness(harness: Harness) -> None:
    await harness.application.shutdown()
    await harness.services.database.dispose()
    # Telegram would have refused these (text over 4096, caption over 1024, callback data over 64 bytes).
    assert not harness.api.limit_refusals, f"calls over Telegram's limits: {harness.api.limit_refusals}"


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


@pytest.fixture
def citizen() -> LocalUser:
    return LocalUser(20001, "Alice", "en")
