"""`healthcode run`: serve Telegram by long polling (or by webhook), with the web server alongside."""
from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import Application

from bot.application import build_application
from bot.bootstrap import StartupError, check_web_host, create_services
from bot.clock import SystemClock
from bot.jobs.runtime import TimedJobs
from bot.metrics import instrument_application
from bot.rate_share import rate_share_for
from bot.services.context import Services
from bot.services.delivery.worker import DeliveryWorker
from bot.settings import Settings
from bot.runners.scale_out import check_connection_budget
from bot.runners.web_workers import WebWorkers
from bot.web.server import PortInUse, WebSide
from handlers.delivery_sender import TelegramSender

log = logging.getLogger(__name__)


async def prepare(settings: Settings) -> tuple[Services, Application]:
    if settings.telegram_token is None:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN is not set (get one from @BotFather), "
                           "or try the bot locally with: healthcode shell")
    await check_web_host(settings)
    services = await create_services(settings, SystemClock(), local=False)
    return services, build_application(services)


def run_polling(settings: Settings, services: Services, application: Application) -> None:
    """Serve until stopped: long polling, or webhook mode when HEALTHCODE_WEBHOOK_URL is set."""
    loop = asyncio.get_event_loop()
    loop.run_until_complete(check_connection_budget(settings, services.database))
    loop.run_until_complete(services.cards.start())  # fresh cards drawn in worker processes
    # This process's share of the bot's Telegram rate (PostgreSQL; a no-op on SQLite): before anything is sent.
    rate_share = rate_share_for(application.bot, services.database, settings.telegram_rate)
    loop.run_until_complete(rate_share.start())
    try:
        _serve(settings, services, application, loop)
    finally:
        loop.run_until_complete(rate_share.stop())  # after the bot and the delivery worker stopped sending
        loop.run_until_complete(services.cards.shutdown())
        loop.run_until_complete(services.database.dispose())  # last: the rate share's goodbye used it


def run_webhook_worker(services: Services, application: Application, parent_pid: int) -> None:
    """One of HEALTHCODE_WEB_WORKERS in webhook mode: updates and the web side only. Bulk delivery and
    the timed jobs run in the first process (one sender of the bot's bulk, one run of each job)."""
    from bot.runners.webhook import serve_webhook

    loop = asyncio.get_event_loop()
    loop.run_until_complete(services.cards.start())
    rate_share = rate_share_for(application.bot, services.database, services.settings.telegram_rate)
    loop.run_until_complete(rate_share.start())  # each process sends only its share of the bot's rate
    try:
        loop.run_until_complete(serve_webhook(services, application, parent_pid=parent_pid))
    finally:
        loop.run_until_complete(rate_share.stop())
        loop.run_until_complete(services.cards.shutdown())
        loop.run_until_complete(services.database.dispose())


def _serve(settings: Settings, services: Services, application: Application, loop: asyncio.AbstractEventLoop) -> None:
    timed_jobs = TimedJobs(services, application.bot)
    loop.run_until_complete(timed_jobs.start())  # schedules from the database; missed jobs run now, once
    # Bulk delivery (broadcasts, reminders, notices): resumes whatever a previous run left pending.
    delivery_worker = DeliveryWorker(services, TelegramSender(services, application.bot))
    if settings.webhook_url:
        from bot.runners.webhook import serve_webhook

        try:
            loop.run_until_complete(delivery_worker.start())
            loop.run_until_complete(serve_webhook(services, application))
        except InvalidToken:
            raise StartupError("HEALTHCODE_TELEGRAM_TOKEN was rejected by Telegram (InvalidToken)") from None
        finally:
            loop.run_until_complete(delivery_worker.stop())
            loop.run_until_complete(timed_jobs.stop())
        return
    web_side = WebSide(services, share_port=settings.web_workers > 1)
    try:
        loop.run_until_complete(web_side.start())
    except PortInUse as error:
        loop.run_until_complete(web_side.stop())
        loop.run_until_complete(timed_jobs.stop())
        raise StartupError(f"{error}; free the port or choose another") from None
    web_workers = WebWorkers(settings.web_workers - 1)
    loop.run_until_complete(web_workers.start())
    instrument_application(application, services.metrics)
    _run_delivery_with(application, delivery_worker)
    log.info("polling Telegram at %s", settings.telegram_api_url)
    try:
        # Network errors and 429s inside polling are retried by ptb; they never end the process.
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, close_loop=False)
    except InvalidToken:
        raise StartupError("HEALTHCODE_TELEGRAM_TOKEN was rejected by Telegram (InvalidToken)") from None
    finally:
        loop.run_until_complete(web_workers.stop())
        loop.run_until_complete(web_side.stop())
        loop.run_until_complete(timed_jobs.stop())


def _run_delivery_with(application: Application, worker: DeliveryWorker) -> None:
    """Start the worker once the bot is initialised; stop it (every in-flight send settled) before
    the bot's HTTP client closes."""
    started, stopped = application.post_init, application.post_stop

    async def post_init(app: Application) -> None:
        if started is not None:
            await started(app)
        await worker.start()

    async def post_stop(app: Application) -> None:
        await worker.stop()
        if stopped is not None:
            await stopped(app)

    application.post_init, application.post_stop = post_init, post_stop
