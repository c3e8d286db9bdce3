"""Transactions per second for the daily-declaration unit of work.

Each transaction is what the bot does when a citizen submits a declaration:
``lock_user`` then ``declarations.upsert`` (sealing the answers), then commit.

    python bench/storage_tx.py [--transactions 2000] [--concurrency 1 16]

Runs on a throw-away SQLite file, and on a throw-away PostgreSQL database
(created next to, and dropped after) when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from rules.model import Answers, Diagnosis, Symptom, TravelRisk  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.encryption import FieldCipher  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.records import NewUser  # noqa: E402

USERS = 50
START = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
ANSWERS = Answers(Decimal("36.7"), frozenset({Symptom.COUGH}), False, TravelRisk.NONE, Diagnosis.NONE)


async def _seed(db: Database) -> list[tuple[int, int]]:
    """Register USERS citizens; return (telegram_id, user_id) pairs."""
    users = []
    async with db.unit_of_work() as uow:
        for n in range(USERS):
            new = NewUser(900_000 + n, f"Bench {n}", f"1101051990{n:07d}X", f"+86139{n:08d}", "110105", "v1", START)
            users.append((new.telegram_id, (await uow.users.add(new, START)).id))
    return users


async def _run(db: Database, users: list[tuple[int, int]], transactions: int, concurrency: int) -> float:
    counter = iter(range(transactions))

    async def worker() -> None:
        for n in counter:
            telegram_id, user_id = users[n % USERS]
            day = date(2024, 3, 1) - timedelta(days=(n // USERS) % 30)  # mix of inserts and replacements
            async with db.unit_of_work() as uow:
                await uow.lock_user(telegram_id)
                await uow.declarations.upsert(user_id, day, ANSWERS, START + timedelta(seconds=n))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return transactions / (time.perf_counter() - began)


async def bench(label: str, url: str, transactions: int, concurrencies: list[int]) -> None:
    await upgrade(url)
    db = Database(url, FieldCipher(secrets.token_bytes(32)))
    try:
        users = await _seed(db)
        await _run(db, users, min(200, transactions), 1)  # warm-up: pool, statement caches
        for concurrency in concurrencies:
            rate = await _run(db, users, transactions, concurrency)
            print(f"{label:<11} concurrency {concurrency:>3}: {rate:8.0f} transactions/s")
    finally:
        await db.dispose()


async def _pg_admin(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        await bench("sqlite", url, args.transactions, args.concurrency)

    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        print("postgresql  skipped (set TEST_DATABASE_URL to include it)")
        return
    name = f"hc_bench_{secrets.token_hex(4)}"
    await _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        await bench("postgresql", url, args.transactions, args.concurrency)
    finally:
        await _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
