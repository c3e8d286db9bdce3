"""Mini App declarations per second over real HTTP, next to the chat's figures from the same run.

    python -m bench.miniapp --users 1000                      # SQLite (a temp file), 1 and 2 web workers
    python -m bench.miniapp --users 1000 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Synthetic users are registered through storage. `healthcode web` then serves the web side in its own
process(es) (HEALTHCODE_WEB_WORKERS=1, then 2 sharing the port), and this process plays N users at once
(``--concurrency`` in flight): each loads ``/app/api/status`` and submits a declaration to
``/app/api/declare``, with valid initData signed by the bench's bot token in ``Authorization: tma``.
  * "fresh card"  - the first declaration of the day: a new status, a new credential, a new QR drawn;
  * "cached card" - the same answers again the same day: the credential and its QR are reused.
Every declaration also hands the chat its card (a queued row the delivery worker hands over in bulk), as in
production; nobody sends them here. The load generator shares the machine's cores with the server, as
bench.checkin's in-process chat does. The chat's figures are printed twice: bench.checkin's Confirm press
alone, and bench.chat_declaration's whole chat declaration (the six updates a person sends). With a PostgreSQL URL, each run uses a database of its own, made
from that server and dropped afterwards.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from bench import chat_declaration
from bench import checkin as chat_bench
from bench.scratch_database import scratch_database
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.chat import LocalUser
from bot.web.init_data import fields_for, sign

TOKEN = "424242:bench-token-not-a-real-bot"
PHASES = ("fresh card", "cached card")
DECLARATION = {"temperature": "36.6", "symptoms": [], "contact": "no", "travel": "none", "diagnosis": "none"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(directory: Path, url: str, port: int, workers: int) -> dict[str, str]:
    return {**os.environ, "HEALTHCODE_DATABASE_URL": url, "HEALTHCODE_STATE_DIR": str(directory / "state"),
            "HEALTHCODE_KEYS_DIR": str(directory / "keys"), "HEALTHCODE_PUBLIC_URL": "https://hc.example.cn",
            "HEALTHCODE_TELEGRAM_TOKEN": TOKEN, "HEALTHCODE_WEB_PORT": str(port), "HEALTHCODE_WEB_HOST": "127.0.0.1",
            "HEALTHCODE_WEB_WORKERS": str(workers), "HEALTHCODE_LOG_LEVEL": "WARNING"}


async def _register(directory: Path, url: str, first_id: int, count: int) -> list[LocalUser]:
    settings = chat_bench._settings(directory, url)
    services = await create_services(settings, ManualClock(datetime.now(timezone.utc)), local=True)
    users = [LocalUser(first_id + n, f"U{n}", "en") for n in range(count)]
    await chat_bench.prepare(None, services, users)  # type: ignore[arg-type]  # the chat is not used there
    await services.database.dispose()
    return users


async def _wait_until_up(session: aiohttp.ClientSession, base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit(f"`healthcode web` exited with status {server.returncode}")
        try:
            async with session.get(base + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("`healthcode web` did not answer /healthz within 20 s")


async def _phase(session: aiohttp.ClientSession, base: str, users: list[LocalUser],
                 concurrency: int) -> tuple[float, list[float], list[float]]:
    gate = asyncio.Semaphore(concurrency)
    loads: list[float] = []
    declarations: list[float] = []

    async def one(user: LocalUser) -> None:
        signed = sign(fields_for(user.telegram_id, user.first_name, "en", datetime.now(timezone.utc)), bot_token=TOKEN)
        headers = {"Authorization": "tma " + signed}
        async with gate:
            started = time.perf_counter()
            async with session.get(base + "/app/api/status", headers=headers) as response:
                status = await response.json()
            loads.append(time.perf_counter() - started)
            if response.status != 200 or not status.get("registered"):
                raise SystemExit(f"status for user {user.telegram_id}: HTTP {response.status} {status}")
            started = time.perf_counter()
            async with session.post(base + "/app/api/declare", json={**DECLARATION, "day": status["today"]},
                                    headers=headers) as response:
                declared = await response.json()
            declarations.append(time.perf_counter() - started)
        if response.status != 200 or declared.get("outcome") not in ("saved", "replaced"):
            raise SystemExit(f"declaration for user {user.telegram_id}: HTTP {response.status} {declared}")

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user in users))
    return time.perf_counter() - started, loads, declarations


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q) - 1)] * 1000


async def _serve_and_load(directory: Path, url: str, users: list[LocalUser], workers: int, concurrency: int) -> None:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "bot", "web"], env=_environment(directory, url, port, workers))
    base = f"http://127.0.0.1:{port}"
    try:
        connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            await _wait_until_up(session, base, server)
            if workers > 1:
                # The extra workers bind the port a moment after the first (each starts its QR process first):
                # the bench's kept-alive connections must not all land on the first.
                await asyncio.sleep(6.0)
            for label in PHASES:
                elapsed, loads, declarations = await _phase(session, base, users, concurrency)
                print(f"{url.split(':', 1)[0]:<20} mini app {label:<11} {workers} web worker(s) "
                      f"{len(users) / elapsed:7.0f} declarations/s   declare p50 {statistics.median(declarations) * 1000:6.1f} ms"
                      f"   p99 {_quantile(declarations, 0.99):6.1f} ms   status p50 {statistics.median(loads) * 1000:6.1f} ms"
                      f"   ({len(users)} users, {concurrency} in flight)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(users_count: int, database_url: str | None, concurrency: int, workers: tuple[int, ...], chat: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with scratch_database(database_url, "bench_miniapp", f"sqlite+aiosqlite:///{directory / 'bench.db'}") as url:
            base = 7_000_000 + int(time.time()) % 1_000_000 * 100
            for index, count in enumerate(workers):
                # Fresh users for each server: every run's first phase is the day's first declaration.
                users = asyncio.run(_register(directory, url, base + index * users_count, users_count))
                asyncio.run(_serve_and_load(directory, url, users, count, concurrency))
    if chat:  # the chat path (bench.checkin), same machine, same run, same users and concurrency
        chat_bench.run(users_count, database_url, concurrency, 1, frozenset(chat_bench.PHASES))
        # ... and the chat's whole declaration (six updates), as the Mini App's is the page and the form.
        chat_declaration.run(users_count, database_url, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server (postgresql+asyncpg://…); the bench makes and drops its own database")
    parser.add_argument("--workers", default="1,2", help="web worker counts to run, comma-separated (default 1,2)")
    parser.add_argument("--no-chat", action="store_true", help="skip the chat figures (bench.checkin)")
    args = parser.parse_args()
    try:
        workers = tuple(int(part) for part in args.workers.split(","))
    except ValueError:
        parser.error("--workers: whole numbers separated by commas, such as 1,2")
    if min(args.users, args.concurrency, *workers) < 1 or max(workers) > 64:
        parser.error("--users and --concurrency must be at least 1, and each worker count between 1 and 64")
    if args.database_url and not args.database_url.startswith("postgresql+asyncpg://"):
        parser.error("--database-url must be postgresql+asyncpg://… (SQLite is the default)")
    run(args.users, args.database_url, args.concurrency, workers, not args.no_chat)


if __name__ == "__main__":
    main()
