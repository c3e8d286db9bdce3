"""`healthcode run`: serve Telegram (polling or webhook) with the web side alongside."""
from __future__ import annotations

import argparse
import asyncio

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="serve Telegram (long polling, or a webhook when HEALTHCODE_WEBHOOK_URL is set) and the web side")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.metrics import shared_by_web_workers
    from bot.runners.telegram import prepare, run_polling

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The web workers and this process share one metrics directory: a scrape of any covers all.
    with shared_by_web_workers(settings.web_workers > 1):
        services, application = loop.run_until_complete(prepare(settings))
        run_polling(settings, services, application)
    return 0
