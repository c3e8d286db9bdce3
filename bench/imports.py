"""/import throughput through the real Application and the local Bot API (no network).

    python -m bench.imports --rows 50000 --registered 5000           # SQLite (a temp file)
    python -m bench.imports --rows 50000 --registered 5000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_imports   # created, then dropped

``--registered`` citizens are inserted through storage (sealed, blind-indexed as registration does),
all inside the root administrator's scope. The list (a CSV of ``--rows`` resident IDs) names all of
them and ``--rows`` minus that many people who are not registered. Timed, from the document being
sent until the bot's answer has been sent:

* **dry run**: download, decode and check the CSV, blind-index every row, look them up in chunks,
  store the draft's digests, answer the summary. Throughput is rows per second of that.
* **confirm**: the press until its answer: the intent recorded (the import ``applying``, one row per
  person to decide), nothing decided yet.
* **apply**: what the scheduler's ``imports`` job does, timed chunk by chunk: a decision for each
  matched person through the one decision use case (stored, audited, re-evaluated, a new signed
  credential that supersedes the old, one notice campaign per chunk), ``APPLY_CHUNK`` people per
  transaction with the job's pause between chunks. Reported: decisions per second (wall time, pauses
  included) and the longest chunk, i.e. the longest any one transaction held the writer slot.
* **citizens meanwhile**: ``--citizens`` people (bench.checkin's) press Confirm on a declaration one
  after another, first with nothing else running, then while the import applies; the p50 and p99 of
  their press-to-card time.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from bench.checkin import prepare as prepare_citizens
from bench.checkin import walk_to_confirm
from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.jobs.imports import pause_between_chunks
from bot.local.chat import LocalChat, LocalUser
from bot.services.administration.import_apply import APPLY_CHUNK, apply_next_chunk
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


async def _confirm_checkins(chat: LocalChat, citizens: list[LocalUser], until: asyncio.Event | None) -> list[float]:
    """Each citizen presses Confirm in turn (a short pause between), until all have or ``until`` is set."""
    latencies = []
    for citizen in citizens:
        if until is not None and until.is_set():
            break
        target = chat.latest_with_buttons(citizen)
        started = time.perf_counter()
        replies = await chat.press_data(citizen, target, "ci:confirm")
        latencies.append(time.perf_counter() - started)
        if not any(reply.photo is not None or reply.photo_file_id is not None for reply in replies):
            raise SystemExit(f"citizen {citizen.telegram_id} got no status card")
        await asyncio.sleep(0.02)
    return latencies


async def _apply(services) -> tuple[float, list[float], int]:
    """The imports job's loop, each chunk timed: (wall seconds, chunk seconds, decisions)."""
    pause = pause_between_chunks(services.database.dialect)
    chunks, decided = [], 0
    started = time.perf_counter()
    while True:
        begun = time.perf_counter()
        chunk = await apply_next_chunk(services, services.clock.now())
        if chunk is None:
            break
        chunks.append(time.perf_counter() - begun)
        decided += chunk.decided
        await asyncio.sleep(pause)
    return time.perf_counter() - started, chunks, decided


def _percentile(values: list[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def bench(directory: Path, url: str, rows: int, registered: int, citizens_count: int) -> dict[str, float]:
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
        citizens = [LocalUser(30_000_000 + n, f"C{n}", "en") for n in range(2 * citizens_count)]
        await prepare_citizens(chat, services, citizens)
        for citizen in citizens:
            await walk_to_confirm(chat, citizen)
        alone = await _confirm_checkins(chat, citizens[:citizens_count], None)
        started = time.perf_counter()
        [recorded] = await chat.press(ADMIN, "Confirm")
        confirm = time.perf_counter() - started
        assert f"{registered} decision(s) to record" in (recorded.text or ""), recorded.text
        applied = asyncio.Event()
        meanwhile_task = asyncio.create_task(_confirm_checkins(chat, citizens[citizens_count:], applied))
        wall, chunks, decided = await _apply(services)
        applied.set()
        meanwhile = await meanwhile_task
        assert decided == registered, decided
    finally:
        await application.shutdown()
        await services.database.dispose()
    return {"dry_run_s": dry_run, "rows_per_s": rows / dry_run, "confirm_s": confirm, "apply_s": wall,
            "decisions_per_s": decided / wall, "chunks": len(chunks), "longest_chunk_s": max(chunks),
            "median_chunk_s": statistics.median(chunks),
            "alone_p50_ms": 1000 * statistics.median(alone), "alone_p99_ms": 1000 * _percentile(alone, 0.99),
            "meanwhile_n": len(meanwhile), "meanwhile_p50_ms": 1000 * statistics.median(meanwhile),
            "meanwhile_p99_ms": 1000 * _percentile(meanwhile, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--registered", type=int, default=5_000)
    parser.add_argument("--citizens", type=int, default=100, help="declarations timed alone, then as many meanwhile")
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
            result = asyncio.run(bench(directory, url, args.rows, args.registered, args.citizens))
        finally:
            if postgres:
                asyncio.run(_postgres(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"{backend}: {args.rows} rows, {args.registered} registered")
    print(f"  dry run  {result['dry_run_s']:.2f} s  -> {result['rows_per_s']:,.0f} rows/s matched")
    print(f"  confirm  {result['confirm_s']:.3f} s  (the intent only; the answer comes at once)")
    print(f"  apply    {result['apply_s']:.1f} s  -> {result['decisions_per_s']:,.0f} decisions/s in the background, "
          f"{result['chunks']} chunks of {APPLY_CHUNK}; longest transaction {result['longest_chunk_s']:.2f} s "
          f"(median {result['median_chunk_s']:.2f} s)")
    print(f"  a citizen's Confirm: alone p50 {result['alone_p50_ms']:.0f} ms, p99 {result['alone_p99_ms']:.0f} ms; "
          f"while the import applies ({result['meanwhile_n']} presses) p50 {result['meanwhile_p50_ms']:.0f} ms, "
          f"p99 {result['meanwhile_p99_ms']:.0f} ms")


if __name__ == "__main__":
    main()
