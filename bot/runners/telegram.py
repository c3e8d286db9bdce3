"""`healthcode run`: serve Telegram by long polling."""
from __future__ import annotations

import logging

from telegram import Update
from telegram.error import InvalidToken

from bot.application import build_application
from bot.bootstrap import StartupError, create_services
from bot.clock import SystemClock
from bot.settings import Settings

log = logging.getLogger(__name__)


async def prepare(settings: Settings):
    if settings.telegram_token is None:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN is not set (get one from @BotFather), "
                           "or try the bot locally with: healthcode shell")
    services = await create_services(settings, SystemClock(), local=False)
    return services, build_application(services)


def run_polling(settings: Settings, services, application) -> None:
    log.info("polling Telegram at %s", settings.telegram_api_url)
    try:
        # Network errors and 429s inside polling are retried by ptb; they never end the process.
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, close_loop=False)
    except InvalidToken:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN was rejected by Telegram (InvalidToken)") from None
