"""`healthcode purge …`: destroy personal data at the end of the epidemic, or apply retention by hand.

``purge --all --yes-i-understand`` deletes every row of every table that holds personal data
(people, declarations, codes, credentials, organisations, broadcasts, logs …) and keeps the
anonymous daily counts, the job bookkeeping and the ids of withdrawn credentials. Every
credential still valid is withdrawn first, so codes already shown are refused from then on.

``purge --older-than DAYS`` runs the retention job now with DAYS in place of
HEALTHCODE_RETENTION_DAYS (declarations a current code rests on are kept, as always).

Both log what they removed, as counts per table, and print the same.
"""
from __future__ import annotations

import argparse
import asyncio
import logging

from bot.cli_commands.arguments import positive_int
from bot.settings import Settings

log = logging.getLogger("healthcode.purge")
CONFIRM_FLAG = "--yes-i-understand"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "purge", help="destroy all personal data (end of the epidemic) or apply retention now",
        description="Destroy personal data. Anonymous daily counts are always kept.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--all", action="store_true", help=f"delete ALL personal data (needs {CONFIRM_FLAG})")
    what.add_argument("--older-than", type=positive_int, metavar="DAYS",
                      help="run the retention job now, keeping DAYS days of declarations")
    parser.add_argument(CONFIRM_FLAG, dest="confirmed", action="store_true",
                        help="confirm --all: it cannot be undone")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.all:
        if not args.confirmed:
            print(f"healthcode purge --all deletes every person's data for good; add {CONFIRM_FLAG} to confirm.")
            return 2
        removed = asyncio.run(purge_everything(settings))
        _report("purge --all removed", removed)
        print("Kept: anonymous daily counts, job history, ids of withdrawn credentials.")
        return 0
    report = asyncio.run(purge_older_than(settings, args.older_than))
    _report(f"retention ({args.older_than} days) removed", report)
    return 0


async def purge_everything(settings: Settings) -> dict[str, int]:
    from bot.bootstrap import open_database
    from bot.clock import SystemClock

    # Deleting reads no sealed field, but like every command it refuses a key that is not the database's.
    database = await open_database(settings, SystemClock().now())
    try:
        async with database.unit_of_work() as uow:
            return await uow.erasure.purge_all(SystemClock().now())
    finally:
        await database.dispose()


async def purge_older_than(settings: Settings, days: int) -> dict[str, int | str]:
    from bot.bootstrap import create_services
    from bot.clock import SystemClock
    from bot.jobs.retention import apply_retention

    services = await create_services(settings, SystemClock(), local=False)
    try:
        now = services.clock.now()
        return await apply_retention(services, services.today(), now, retention_days=days)
    finally:
        await services.database.dispose()


def _report(title: str, report: dict) -> None:
    counts = ", ".join(f"{name}={count}" for name, count in sorted(report.items()))
    log.info("%s: %s", title, counts)
    print(f"{title}:")
    for name, count in sorted(report.items()):
        print(f"  {name}: {count}")
