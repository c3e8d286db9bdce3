"""/import matching throughput through the real Application and the local Bot API (no network).

    python -m bench.imports --rows 50000 --registered 5000           # SQLite (a temp file)
    python -m bench.imports --rows 50000 --registered 5000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_imports   # created, then dropped

``--registered`` citizens are inserted through storage (sealed, blind-indexed as registration does),
all inside the root administrator's scope. The list (a CSV of ``--rows`` resident IDs) names all of
them and ``--rows`` minus that many people who are not registered. Timed, from the document being
sent until the bot's answer has been sent:

* **dry run**: download, decode and check the CSV, blind-index every row, look them up in chunks,
  store the draft's digests, answer the summary. Throughput is rows per second of that.
* **confirm**: a decision for each matched person through the one decision use case (stored,
  audited, re-evaluated, a new signed credential that supersedes the old, one notice campaign).
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.local.chat import LocalChat, LocalUser
from bot.settings import load_settings
from rules.validators import resident_id_check_char
from storage.records import NewUser

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
ADMIN = LocalUser(900_001, "Admin", "en")


def listed_id(n: int) -> str:
    body = f"3301061980{n // 28000 % 12 + 1:02d}{n // 1000 % 28 + 1:02d}{n % 1000:03d}"
    return body + resident_id_check_char(body)


def _settings(directory: Path, url: str):
    return load_settings(_env_file=None, database_url=url, state_dir=directory / "state",
                         keys_dir=directory / "keys", public_url="https://hc.example.cn", log_level="WARNING",
                         admin_ids=frozenset({ADMIN.telegram_id}), default_language="en")


async def _postgres(url: str, statement: str) -> None:
    import asyncpg

    parts = urlsplit(url.replace("+asyncpg", ""))
    connection = await asyncpg.connect(parts._replace(path="/postgres").geturl())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def bench(directory: Path, url: str, rows: int, registered: int) -> dict[str, float]:
    clock = ManualClock(START)
    services = await create_services(_settings(directory, url), clock, local=True)
    api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
    api.record_calls = False
    application = build_application(services, request=api)
    await application.initialize()
    chat = LocalChat(application, api)
    try:
        async with services.database.unit_of_work() as uow:
            for n in range(registered):
                await uow.users.add(NewUser(10_000_000 + n, f"市民{n}", listed_id(n), f"139{n:08d}", "330100",
                                            "bench", START), START)
        content = ("身份证号\r\n" + "".join(listed_id(n) + "\r\n" for n in range(rows))).encode()
        await chat.send_text(ADMIN, "/import")
        for label in ("Red", "14 days", "Close contact"):
            await chat.press(ADMIN, label)
        started = time.perf_counter()
        [summary] = await chat.send_photo(ADMIN, content, as_document=True, filename="list.csv")
        dry_run = time.perf_counter() - started
        assert f"Matched inside your scope: {registered}" in (summary.text or ""), summary.text
        started = time.perf_counter()
        [recorded] = await chat.press(ADMIN, "Confirm")
        confirm = time.perf_counter() - started
        assert f"Import recorded: {registered} decision(s)" in (recorded.text or ""), recorded.text
    finally:
        await application.shutdown()
        await services.database.dispose()
    return {"dry_run_s": dry_run, "rows_per_s": rows / dry_run, "confirm_s": confirm,
            "decisions_per_s": registered / confirm if confirm else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--registered", type=int, default=5_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL: a database name of its own (created, dropped)")
    args = parser.parse_args()
    if not 0 < args.registered <= args.rows <= 100_000:
        parser.error("need 0 < --registered <= --rows <= 100000")
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        url = args.database_url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        name = urlsplit(url).path.lstrip("/")
        postgres = url.startswith("postgresql")
        if postgres:
            asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}"'))
            asyncio.run(_postgres(url, f'CREATE DATABASE "{name}"'))
        try:
            result = asyncio.run(bench(directory, url, args.rows, args.registered))
        finally:
            if postgres:
                asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"{backend}: {args.rows} rows, {args.registered} registered")
    print(f"  dry run  {result['dry_run_s']:.2f} s  -> {result['rows_per_s']:,.0f} rows/s matched")
    print(f"  confirm  {result['confirm_s']:.2f} s  -> {result['decisions_per_s']:,.0f} decisions/s")


if __name__ == "__main__":
    main()
