"""`healthcode run`: serve Telegram by long polling (or by webhook), with the web server alongside."""
from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import InvalidToken

from bot.application import build_application
from bot.bootstrap import StartupError, create_services
from bot.clock import SystemClock
from bot.metrics import instrument_application
from bot.settings import Settings
from bot.web.server import PortInUse, WebSide

log = logging.getLogger(__name__)


async def prepare(settings: Settings):
    if settings.telegram_token is None:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN is not set (get one from @BotFather), "
                           "or try the bot locally with: healthcode shell")
    services = await create_services(settings, SystemClock(), local=False)
    return services, build_application(services)


def run_polling(settings: Settings, services, application) -> None:
    """Serve until stopped: long polling, or webhook mode when HEALTHCODE_WEBHOOK_URL is set."""
    loop = asyncio.get_event_loop()
    if settings.webhook_url:
        from bot.runners.webhook import serve_webhook

        try:
            loop.run_until_complete(serve_webhook(services, application))
        except InvalidToken:
            raise StartupError("HEALTHCODE_TELEGRAM_TOKEN was rejected by Telegram (InvalidToken)") from None
        return
    web_side = WebSide(services)
    try:
        loop.run_until_complete(web_side.start())
    except PortInUse as error:
        loop.run_until_complete(web_side.stop())
        raise StartupError(f"{error}; free the port or choose another") from None
    instrument_application(application, services.metrics)
    log.info("polling Telegram at %s", settings.telegram_api_url)
    try:
        # Network errors and 429s inside polling are retried by ptb; they never end the process.
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, close_loop=False)
    except InvalidToken:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN was rejected by Telegram (InvalidToken)") from None
    finally:
        loop.run_until_complete(web_side.stop())
