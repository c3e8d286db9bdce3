"""`healthcode web`: serve the web side only, without the bot.

The verification page and API, the trust and revocation lists, /healthz and /metrics, for a
deployment that runs checkpoint verification apart from the bot (several machines on one
PostgreSQL, say). HEALTHCODE_WEB_WORKERS sets how many processes share the port.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.bootstrap import StartupError, check_web_host, create_services
from bot.card_rendering import usable_cores
from bot.clock import SystemClock
from bot.metrics import shared_by_web_workers
from bot.runners.web_workers import WebWorkers, exit_when_parent_goes
from bot.settings import Settings
from bot.web.server import PortInUse, WebSide

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("web", help="serve the verification web side only (no Telegram)")
    # Internal: started by a parent process as one of HEALTHCODE_WEB_WORKERS; ends when it does.
    parser.add_argument("--worker-of", type=process_id, metavar="PID", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def process_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a process id: {text!r}")
    return int(text)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # The parent hands its workers one metrics directory, so one scrape of any process covers all.
    with shared_by_web_workers(args.worker_of is None and settings.web_workers > 1):
        asyncio.run(serve_web(settings, parent_pid=args.worker_of))
    return 0


async def serve_web(settings: Settings, *, parent_pid: int | None = None) -> None:
    """Serve until SIGTERM or SIGINT (or, for a worker, until the parent is gone)."""
    await check_web_host(settings)
    services = await create_services(settings, SystemClock(), local=False)
    web_side = WebSide(services, share_port=settings.web_workers > 1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    workers = WebWorkers(0 if parent_pid is not None else settings.web_workers - 1)
    orphan_watch: asyncio.Task[None] | None = None
    try:
        # The Mini App's QR codes are drawn off the event loop, in the cores' share of this worker.
        await services.cards.start(max(1, usable_cores() // settings.web_workers))
        try:
            await web_side.start()
        except PortInUse as error:
            raise StartupError(f"{error}; free the port or choose another") from None
        if parent_pid is not None:
            orphan_watch = loop.create_task(exit_when_parent_goes(parent_pid, stop))
        await workers.start()
        log.info("serving the web side at %s", web_side.server.url)
        await stop.wait()
    finally:
        if orphan_watch is not None:
            orphan_watch.cancel()
        await workers.stop()
        await web_side.stop()
        await services.cards.shutdown()
        await services.database.dispose()
