"""Webhook mode: Telegram POSTs updates to ``/telegram/webhook`` on our aiohttp server.

* The webhook is registered with a secret token (HEALTHCODE_WEBHOOK_SECRET, or drawn at start); the
  header Telegram sends back is compared in constant time, and a mismatch gets 403.
* With HEALTHCODE_WEB_WORKERS = N > 1 (PostgreSQL only), N processes serve the one port
  (SO_REUSEPORT), each with its own Application; the first registers the webhook and hands its secret
  to the others (:func:`serve_webhook`).
* A person's updates run in update_id order, across processes too: the turn takes the person's
  advisory lock, then claims its update_id and moves the person's newest handled id forward; one that
  arrives after a later one was handled is answered 200 and not run (``Superseded``).
* An update is processed inline, through the same Application (and the same per-user ordering) as
  in polling mode, and answered 200 only if it succeeded: ptb swallows handler exceptions, so the
  error handler reports them (bot/update_outcome.py).  A handler error, a reply Telegram did not
  take (5xx, 429, a lost connection) or a crash before the answer means Telegram delivers the
  update again, and it is processed then: nothing Telegram believes delivered is lost.
* ``update_id``s are claimed inside the update's own unit of work (``INSERT … ON CONFLICT DO NOTHING``,
  bot.services.context.turn_for): the claim commits with the turn's writes, so de-duplication costs no
  transaction of its own.  A redelivered update finds its id claimed and is answered 200 without
  running again (one still in progress in this process is waited for, not run twice).  If the turn
  committed but a reply did not reach Telegram, the claim is released (one more transaction, only
  then) and the answer is 500, so the redelivery runs again.  An update that opens no unit of work
  is recorded after its replies, in a transaction of its own, as before.
* A crash (the process killed) between the turn's commit and its replies leaves the claim standing:
  Telegram redelivers, the redelivery is answered 200 as already processed, and that turn's replies
  are never sent, while its writes (e.g. the declaration) are kept.  The person sees no answer to
  that one message and asks again (/status shows the card).  Without the claim the redelivery would
  run the turn a second time on top of its own committed writes.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import signal

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.application import register_command_menu, write_learnt_file_ids
from bot.bootstrap import StartupError
from bot.metrics import instrument_application
from bot.services.context import Services
from bot.update_outcome import tracking
from bot.web.app import WEBHOOK_PATH
from bot.runners.web_workers import WebWorkers, exit_when_parent_goes
from bot.web.server import Background, PortInUse, WebServer

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_endpoint(webhook_url: str) -> str:
    """HEALTHCODE_WEBHOOK_URL is the public base (or already the full endpoint) Telegram posts to."""
    base = webhook_url.rstrip("/")
    return base if base.endswith(WEBHOOK_PATH) else base + WEBHOOK_PATH


class WebhookReceiver:
    def __init__(self, application: Application, services: Services, secret: str) -> None:
        self._application = application
        self._services = services
        self._secret = secret.encode()
        self._in_progress: dict[int, asyncio.Future[bool]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        metrics = self._services.metrics.webhook_deliveries
        supplied = request.headers.get(SECRET_HEADER, "")
        # Our secret is ASCII; non-ASCII bytes arrive as surrogates that cannot even be encoded.
        if not supplied.isascii() or not hmac.compare_digest(supplied.encode("ascii"), self._secret):
            metrics.inc(result="forbidden")
            return web.Response(status=403, text="forbidden: missing or wrong secret token")
        update = await self._parse(request)
        if update is None:
            metrics.inc(result="bad_request")
            return web.Response(status=400, text="bad request: the body must be a Telegram Update (JSON with update_id)")
        running = self._in_progress.get(update.update_id)
        if running is not None:
            if not await asyncio.shield(running):
                return web.Response(status=500, text="not processed; please retry")
            metrics.inc(result="duplicate")
            return web.Response(text="ok: already processed")
        return await self._process(update)

    async def _parse(self, request: web.Request) -> Update | None:
        try:
            data = json.loads(await request.read())
        # ValueError also covers an integer over Python's 4,300-digit limit, which is not a JSONDecodeError.
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(data, self._application.bot)
        except Exception:  # noqa: BLE001 - any shape ptb cannot read is a bad request, not a crash
            return None

    async def _process(self, update: Update) -> web.Response:
        # Claimed before the first await, so a concurrent redelivery finds it and waits.
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()  # True once processed
        self._in_progress[update.update_id] = done
        processed = False
        outcome = None
        try:
            application = self._application
            with tracking(update.update_id, claim=True) as outcome:
                await application.update_processor.process_update(update, application.process_update(update))
            if outcome.duplicate:
                processed = True
                self._services.metrics.webhook_deliveries.inc(result="duplicate")
                return web.Response(text="ok: already processed")
            if outcome.superseded:  # acknowledged: a redelivery would be just as late
                processed = True
                self._services.metrics.webhook_deliveries.inc(result="superseded")
                log.info("webhook update %d arrived after a later update of the same person; not run",
                         update.update_id)
                return web.Response(text="ok: superseded by a later update")
            if outcome.succeeded:
                first = True
                if not outcome.claimed:  # no unit of work claimed it (an update no turn handles)
                    async with self._services.database.unit_of_work() as uow:
                        first = await uow.updates.mark_processed(update.update_id, self._services.clock.now())
                processed = True
                if not first:
                    self._services.metrics.webhook_deliveries.inc(result="duplicate")
                    return web.Response(text="ok: already processed")
            else:
                log.warning("webhook update %d failed (%s); not acknowledged, Telegram will retry",
                            update.update_id, outcome.failure)
        except Exception:  # noqa: BLE001 - not acknowledged: Telegram will deliver it again
            log.exception("webhook update %d could not be processed; Telegram will retry", update.update_id)
        finally:
            if not processed and outcome is not None and outcome.claimed:
                await self._release(update.update_id)
            self._in_progress.pop(update.update_id, None)
            done.set_result(processed)
        if not processed:
            self._services.metrics.webhook_deliveries.inc(result="failed")
            return web.Response(status=500, text="not processed; please retry")
        self._services.metrics.webhook_deliveries.inc(result="processed")
        return web.Response(text="ok")

    async def _release(self, update_id: int) -> None:
        """The turn committed its claim but Telegram did not take the replies: un-claim, so it runs again."""
        try:
            async with self._services.database.unit_of_work() as uow:
                await uow.updates.release(update_id)
        except Exception:  # noqa: BLE001 - the 500 still goes out; the redelivery will be taken as done
            log.exception("webhook update %d: could not release its claim; its redelivery will be skipped",
                          update_id)


class WebhookService:
    """The Application, the web server with the webhook route, and the refresher, started in order.

    ``register``: tell Telegram where to post (setWebhook) and set the command menu; only one
    process of several does, the others would otherwise re-register on every start for nothing.
    ``share_port``: bind with SO_REUSEPORT, next to the other processes of HEALTHCODE_WEB_WORKERS.
    """

    def __init__(self, services: Services, application: Application, *, host: str | None = None,
                 port: int | None = None, secret: str | None = None, register: bool = True,
                 share_port: bool = False) -> None:
        self._services = services
        self._application = application
        configured = services.settings.webhook_secret
        # [A-Za-z0-9_-], as Telegram requires; drawn here when no process shares it.
        self.secret = secret or (configured.get_secret_value() if configured else secrets.token_urlsafe(32))
        self._register = register
        self._receiver = WebhookReceiver(application, services, self.secret)
        self.server = WebServer(services, webhook=self._receiver.handle, host=host, port=port, share_port=share_port)
        self._background: Background | None = None

    async def start(self) -> None:
        settings = self._services.settings
        instrument_application(self._application, self._services.metrics)
        await self._application.initialize()
        try:
            await self.server.start()  # listening before Telegram is told where to post
        except PortInUse as error:
            await self._application.shutdown()
            raise StartupError(str(error)) from None
        await self._application.start()
        self._background = Background(self._services)
        if not self._register:
            log.info("webhook worker serving on %s", self.server.url)
            return
        await register_command_menu(self._application)
        endpoint = webhook_endpoint(settings.webhook_url or self.server.url)
        await self._application.bot.set_webhook(
            url=endpoint, secret_token=self.secret, allowed_updates=Update.ALL_TYPES, drop_pending_updates=False,
        )
        log.info("webhook registered at %s; serving on %s", endpoint, self.server.url)

    async def stop(self) -> None:
        # The server drains in-flight deliveries first, so each is processed before the bot stops.
        await self.server.stop()
        if self._background is not None:
            await self._background.stop()
        if self._application.running:
            await self._application.stop()
        await self._application.shutdown()
        await write_learnt_file_ids(self._application)


async def serve_webhook(services: Services, application: Application, *, parent_pid: int | None = None) -> None:
    """`healthcode run` in webhook mode, until SIGINT or SIGTERM (a worker: or until its parent goes).

    With HEALTHCODE_WEB_WORKERS = N > 1 the first process registers the webhook and starts N - 1
    workers (`healthcode run --worker-of PID`), which share its port and its secret; the kernel
    spreads Telegram's connections over all N, each with its own Application.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    several = services.settings.web_workers > 1
    service = WebhookService(services, application, register=parent_pid is None, share_port=several)
    await service.start()
    workers = WebWorkers(services.settings.web_workers - 1 if parent_pid is None else 0, command="run",
                         environment={"HEALTHCODE_WEBHOOK_SECRET": service.secret})
    orphan_watch = loop.create_task(exit_when_parent_goes(parent_pid, stop)) if parent_pid is not None else None
    try:
        await workers.start()
        await stop.wait()
    finally:
        if orphan_watch is not None:
            orphan_watch.cancel()
        await workers.stop()
        await service.stop()
