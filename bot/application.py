"""The application factory: one ptb Application, whatever carries its updates."""
from __future__ import annotations

import logging

from telegram import BotCommand, MenuButtonWebApp, WebAppInfo
from telegram.ext import Application
from telegram.request import BaseRequest

import handlers
from bot.local.bot_api import LOCAL_TOKEN
from bot.logging_setup import cap_payload_echoing_loggers
from bot.rate_limit import OutgoingLimiter
from bot.services import status_card
from bot.services.conversation import MENU
from bot.services.context import Services
from bot.telegram_http import AiohttpRequest
from bot.update_processor import PerUserUpdateProcessor
from handlers.common import SERVICES_KEY
from handlers.rate_limiter import TelegramRateLimiter

_MENU_LANGUAGES = {"zh-CN": "zh", "en": "en"}
log = logging.getLogger(__name__)


def build_application(services: Services, *, request: BaseRequest | None = None) -> Application:
    """With ``request`` (the local Bot API) no token or network is needed; otherwise talk to Telegram."""
    cap_payload_echoing_loggers()
    builder = Application.builder().concurrent_updates(PerUserUpdateProcessor(256)).post_shutdown(write_learnt_file_ids)
    if request is not None:
        builder = builder.token(LOCAL_TOKEN).request(request).get_updates_request(request).updater(None)
    else:
        settings = services.settings
        assert settings.telegram_token is not None, "bot.runners.telegram.prepare refuses to start without one"
        api_url = settings.telegram_api_url
        builder = (
            builder.token(settings.telegram_token.get_secret_value())
            .base_url(api_url)
            .base_file_url(api_url.removesuffix("/bot") + "/file/bot")
            # aiohttp instead of ptb's HTTPXRequest: a fraction of its CPU per call (bot.telegram_http).
            .request(AiohttpRequest(connection_pool_size=256))
            .get_updates_request(AiohttpRequest(connection_pool_size=1))
            # One limiter for every call to Telegram: chat replies and bulk delivery share its budget.
            .rate_limiter(TelegramRateLimiter(OutgoingLimiter(bulk_rate=settings.broadcast_rate,
                                                               total=settings.telegram_rate)))
            .post_init(register_command_menu)
        )
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    handlers.register(application)
    return application


async def write_learnt_file_ids(application: Application) -> None:
    """At shutdown (run_polling calls it; the webhook and shell runners call it themselves): the card
    file ids not written yet, so that a restart sends those cards by their ids."""
    await status_card.write_learnt_file_ids(application.bot_data[SERVICES_KEY], everything=True)


async def register_command_menu(application: Application) -> None:
    services: Services = application.bot_data[SERVICES_KEY]
    for language, telegram_code in _MENU_LANGUAGES.items():
        commands = [BotCommand(c, services.catalogue.text(language, f"commands.{c}")) for c in MENU]
        await application.bot.set_my_commands(commands, language_code=telegram_code)
        if language == services.settings.default_language:
            await application.bot.set_my_commands(commands)
    await set_miniapp_menu_button(application)


async def set_miniapp_menu_button(application: Application) -> None:
    """The chat's menu button opens the Mini App, when Telegram can open it (an https public URL);
    otherwise the menu button stays Telegram's list of commands."""
    services: Services = application.bot_data[SERVICES_KEY]
    url = status_card.miniapp_url(services)
    if url is None:
        log.info("menu button: the list of commands (the Mini App needs an https HEALTHCODE_PUBLIC_URL)")
        return
    text = services.catalogue.text(services.settings.default_language, "button.show_in_app")
    await application.bot.set_chat_menu_button(menu_button=MenuButtonWebApp(text, WebAppInfo(url)))
