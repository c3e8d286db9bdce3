"""`healthcode shell`: the local chat."""
from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from bot.cli_commands.arguments import positive_int
from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("shell", help="chat with the bot locally: no token, no network")
    parser.add_argument("--user", type=positive_int, default=10001, help="the first user's Telegram id (default 10001)")
    parser.add_argument("--out", type=Path, default=Path("shell-out"), help="where photos and documents are saved")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runners.shell import run_shell

    if settings.log_level == "INFO":
        logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
    return asyncio.run(run_shell(settings, user_id=args.user, out_dir=args.out))
