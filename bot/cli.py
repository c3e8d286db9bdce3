"""The `healthcode` command line."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.bootstrap import StartupError
from bot.logging_setup import configure_logging
from bot.settings import Settings, SettingsError, load_settings


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthcode", description="Health-code declaration bot.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="serve Telegram (long polling)")

    shell = commands.add_parser("shell", help="chat with the bot locally: no token, no network")
    shell.add_argument("--user", type=_positive_int, default=10001, help="the first user's Telegram id (default 10001)")
    shell.add_argument("--out", type=Path, default=Path("shell-out"), help="where photos and documents are saved")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the Alembic migrations")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"healthcode: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        return _dispatch(args, settings)
    except StartupError as error:
        print(f"healthcode: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "shell":
        from bot.runners.shell import run_shell

        if settings.log_level == "INFO":
            logging.getLogger().setLevel(logging.WARNING)  # keep the chat readable
        return asyncio.run(run_shell(settings, user_id=args.user, out_dir=args.out))
    if args.command == "run":
        from bot.runners.telegram import prepare, run_polling

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        services, application = loop.run_until_complete(prepare(settings))
        run_polling(settings, services, application)
        return 0
    if args.command == "db" and args.db_command == "upgrade":
        from storage.migrate import upgrade

        asyncio.run(upgrade(settings.database_url))
        print("database is up to date")
        return 0
    raise AssertionError(f"unhandled command {args.command}")
