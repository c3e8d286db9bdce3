"""The `healthcode` command line. Sub-commands live in ``bot.cli_commands``."""
from __future__ import annotations

import argparse
import sys

from bot.bootstrap import StartupError
from bot.cli_commands import db, keys, purge, run, shell, verify, web
from bot.logging_setup import configure_logging
from bot.settings import SettingsError, load_settings

SUBCOMMANDS = (run, shell, web, db, keys, verify, purge)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="healthcode", description="Health-code declaration bot.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
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
        return args.handler(args, settings)
    except StartupError as error:
        print(f"healthcode: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
