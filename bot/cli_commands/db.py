"""`healthcode db …`: database maintenance."""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="database maintenance")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="apply the Alembic migrations").set_defaults(handler=upgrade)
    backup_parser = actions.add_parser("backup", help="make a consistent copy of the database while the bot runs")
    backup_parser.add_argument("file", type=Path, metavar="FILE", help="where to write the copy (must not exist)")
    backup_parser.set_defaults(handler=backup)


def upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate, and check (or on first use record) the data key, as every start does."""
    asyncio.run(_check_data_key(settings, migrate=True))
    print("database is up to date")
    return 0


async def _check_data_key(settings: Settings, *, migrate: bool) -> None:
    """Raises StartupError (one line naming HEALTHCODE_DATA_KEY_FILE) for a wrong or missing key."""
    from bot.bootstrap import open_database
    from bot.clock import SystemClock

    database = await open_database(settings, SystemClock().now(), migrate=migrate)
    await database.dispose()


def backup(args: argparse.Namespace, settings: Settings) -> int:
    """SQLite: an online copy through SQLite's backup API. PostgreSQL: how to use pg_dump instead."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        print(postgres_backup_guidance(settings.database_url, args.file))
        print("healthcode: no file written: PostgreSQL is backed up with pg_dump (see above)", file=sys.stderr)
        return 1
    source = url.database
    if not source or source == ":memory:":
        print("healthcode: HEALTHCODE_DATABASE_URL names no database file to back up", file=sys.stderr)
        return 2
    if not Path(source).exists():
        print(f"healthcode: backup failed: {source} does not exist", file=sys.stderr)
        return 1
    # A copy is only worth keeping with its key; the database is copied as it is (not migrated).
    asyncio.run(_check_data_key(settings, migrate=False))
    try:
        pages = sqlite_backup(Path(source), args.file)
    except FileExistsError:
        print(f"healthcode: {args.file} already exists; choose a new file name", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as error:
        print(f"healthcode: backup failed: {error}", file=sys.stderr)
        return 1
    print(f"backup written to {args.file} ({pages} pages, integrity ok)")
    print("Keep HEALTHCODE_DATA_KEY_FILE and HEALTHCODE_KEYS_DIR backed up separately: without the data key "
          "the personal data in the copy cannot be read.")
    return 0


def sqlite_backup(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with SQLite's online backup API; return the page count.

    Consistent while other connections write (the copy is one snapshot), written to a temporary
    file, checked with ``PRAGMA integrity_check`` and only then renamed into place.
    """
    if not source.exists():
        raise OSError(f"{source} does not exist")
    if target.exists():
        raise FileExistsError(str(target))
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(partial)
    try:
        reader.backup(writer, pages=1024)
        writer.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        verdict = writer.execute("PRAGMA integrity_check").fetchone()[0]
        pages = writer.execute("PRAGMA page_count").fetchone()[0]
    finally:
        writer.close()
        reader.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise sqlite3.DatabaseError(f"the copy failed its integrity check: {verdict}")
    os.replace(partial, target)
    return pages


def postgres_backup_guidance(database_url: str, target: Path) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    shown = url.render_as_string(hide_password=True)
    return (
        "PostgreSQL is backed up with its own tool, pg_dump, which takes a consistent snapshot while the bot runs:\n"
        f"  pg_dump --format=custom --no-owner --file {target} '{shown}'\n"
        "(put the password in ~/.pgpass or PGPASSWORD rather than on the command line)\n"
        "Restore into an empty database, then start the bot (it migrates to the current schema):\n"
        f"  pg_restore --no-owner --dbname '<new database URL>' {target}\n"
        "Keep HEALTHCODE_DATA_KEY_FILE and HEALTHCODE_KEYS_DIR backed up separately: without the data key the "
        "personal data in the dump cannot be read."
    )
