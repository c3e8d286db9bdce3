"""`healthcode db …`: database maintenance."""
from __future__ import annotations

import argparse
import asyncio

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(handler=upgrade)


def upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from storage.migrate import upgrade as run_upgrade

    asyncio.run(run_upgrade(settings.database_url))
    print("database is up to date")
    return 0
