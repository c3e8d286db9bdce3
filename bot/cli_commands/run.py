"""`healthcode run`: serve Telegram (polling or webhook) with the web side alongside."""
from __future__ import annotations

import argparse
import asyncio

from bot.bootstrap import StartupError
from bot.cli_commands.web import process_id
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="serve Telegram (long polling, or a webhook when HEALTHCODE_WEBHOOK_URL is set) and the web side")
    # Internal: started by the first process as one of HEALTHCODE_WEB_WORKERS (webhook mode); ends when it does.
    parser.add_argument("--worker-of", type=process_id, metavar="PID", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.metrics import shared_by_web_workers
    from bot.runners.scale_out import refuse_webhook_workers_on_sqlite
    from bot.runners.telegram import prepare, run_polling, run_webhook_worker

    if args.worker_of is not None and not settings.webhook_url:
        raise StartupError("--worker-of is internal to webhook mode (HEALTHCODE_WEBHOOK_URL is not set)")
    refuse_webhook_workers_on_sqlite(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The web workers and this process share one metrics directory: a scrape of any covers all.
    with shared_by_web_workers(args.worker_of is None and settings.web_workers > 1):
        services, application = loop.run_until_complete(prepare(settings))
        if args.worker_of is not None:
            run_webhook_worker(services, application, args.worker_of)
        else:
            run_polling(settings, services, application)
    return 0
