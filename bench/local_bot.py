"""One bot in this process, as the in-process benchmarks run it: the real Application, the local
Bot API (calls not recorded), a clock the benchmark moves, cards in the bot's process pool."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.local.chat import LocalChat
from bot.services.context import Services
from bot.settings import Settings


@dataclass
class LocalBot:
    services: Services
    chat: LocalChat
    clock: ManualClock


@asynccontextmanager
async def local_bot(settings: Settings, start: datetime, *, cards_in_processes: bool = True) -> AsyncIterator[LocalBot]:
    clock = ManualClock(start)
    services = await create_services(settings, clock, local=True)
    api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
    api.record_calls = False
    application = build_application(services, request=api)
    await application.initialize()
    if cards_in_processes:
        await services.cards.start()
    try:
        yield LocalBot(services, LocalChat(application, api), clock)
    finally:
        await services.cards.shutdown()
        await application.shutdown()
        await services.database.dispose()
