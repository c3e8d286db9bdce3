"""``bench.checkin --webhook``: the real bot, as real processes, fed real updates over HTTP.

Three kinds of process, so that each one's CPU is its own (the machine has 2 cores):

* the Bot API stand-in (bench/bot_api_standin.py): answers like Telegram, limits included;
* the bot: ``python -m bot run`` in webhook mode, with ``HEALTHCODE_WEB_WORKERS`` = N, talking to
  the stand-in through its production request class (bot.telegram_http.AiohttpRequest) over
  loopback; setWebhook reaches the stand-in, which records the url and secret;
* the load generator (bench/webhook_updates.py): POSTs Update JSON to ``/telegram/webhook``.

Users are registered through storage beforehand, with the data key and signing keys the bot then
finds in its state and keys directories. On PostgreSQL each run uses a database of its own
(created on the given server, dropped afterwards), so runs never see each other's rows.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from sqlalchemy.engine import make_url

from bench.webhook_updates import Phase, Target, generate_in_process
from bot.bootstrap import create_services
from bot.clock import SystemClock
from bot.services.registration import PRIVACY_NOTICE_VERSION
from bot.settings import load_settings
from storage.records import NewUser

TOKEN = "1:BENCH"
REPOSITORY = Path(__file__).resolve().parents[1]
TELEGRAM_RATE = 1000  # the setting's ceiling: the bot's own limiter would otherwise cap it all at 30/s
RATE_NOTE = (f"HEALTHCODE_TELEGRAM_RATE={TELEGRAM_RATE} (the setting's maximum; at Telegram's 30/s the bot's own "
             f"limiter caps everything at 30 calls/s); 3 Bot API calls per confirmation, so at most "
             f"~{TELEGRAM_RATE // 3} confirmations/s per bot")
PHASES = ("fresh QR", "cached QR")
IGNORED_WORKERS = "HEALTHCODE_WEB_WORKERS is ignored in webhook mode"
START_SECONDS = 60.0
BOT_COMMAND = ["-m", "bot", "run"]  # after the interpreter; e.g. ["-m", "cProfile", "-o", FILE, "-m", "bot", "run"]


def resident_id(n: int) -> str:
    from bench.checkin import resident_id as valid_id  # one generator of valid ids for both modes

    return valid_id(n)


async def _prepare(directory: Path, url: str, users: list[int]) -> None:
    """Schema, data key, signing keys and the registered users, before the bot starts."""
    settings = load_settings(_env_file=None, database_url=url, state_dir=directory / "state",
                             keys_dir=directory / "keys", public_url="https://hc.example.cn", log_level="WARNING")
    services = await create_services(settings, SystemClock(), local=True)
    now = datetime.now(timezone.utc)
    try:
        async with services.database.unit_of_work() as uow:
            for user in users:
                n = user % 20_000_000
                await uow.users.add(NewUser(user, f"用户{n}", resident_id(n), f"138{n:08d}", "330100",
                                            PRIVACY_NOTICE_VERSION, now), now)
    finally:
        await services.database.dispose()


@asynccontextmanager
async def own_database(url: str | None, directory: Path) -> AsyncIterator[str]:
    """SQLite: a file in ``directory``. PostgreSQL: a new database on that server, dropped at the end."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        return
    import asyncpg

    server = make_url(url)
    name = f"hc_webhook_bench_{secrets.token_hex(4)}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standin() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, "-m", "bench.bot_api_standin"], stdout=subprocess.PIPE, text=True,
                               cwd=REPOSITORY)
    try:
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(10)


def _bot_environment(directory: Path, url: str, standin_url: str, port: int, workers: int, secret: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("HEALTHCODE_")}
    environment.update({
        "HEALTHCODE_TELEGRAM_TOKEN": TOKEN,
        "HEALTHCODE_TELEGRAM_API_URL": f"{standin_url}/bot",
        "HEALTHCODE_WEBHOOK_URL": "https://bench.invalid",
        "HEALTHCODE_WEBHOOK_SECRET": secret,
        "HEALTHCODE_WEB_HOST": "127.0.0.1",
        "HEALTHCODE_WEB_PORT": str(port),
        "HEALTHCODE_WEB_WORKERS": str(workers),
        "HEALTHCODE_TELEGRAM_RATE": str(TELEGRAM_RATE),
        "HEALTHCODE_DATABASE_URL": url,
        "HEALTHCODE_STATE_DIR": str(directory / "state"),
        "HEALTHCODE_KEYS_DIR": str(directory / "keys"),
        "HEALTHCODE_PUBLIC_URL": "https://hc.example.cn",
        "HEALTHCODE_LOG_LEVEL": "WARNING",
        # Not today: otherwise the catch-up reminds every registered user, who has not declared yet, while
        # the load runs (bulk sends through the same limiter and CPU: measured here, it halved the rate).
        "HEALTHCODE_REMINDER_TIME": "23:59",
    })
    return environment


def _get_json(url: str) -> dict:
    import json

    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _listeners(port: int) -> int:
    """Sockets listening on 127.0.0.1:``port`` (one per bot process: they share it with SO_REUSEPORT)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "0A")


@contextmanager
def bot(directory: Path, url: str, standin_url: str, workers: int) -> Iterator[tuple[Target, list[str]]]:
    """``python -m bot run`` in webhook mode, until /healthz answers and setWebhook has reached the
    stand-in. Yields the target and notes (e.g. a worker count the runner ignored)."""
    port, secret = _free_port(), secrets.token_urlsafe(24)
    log = (directory / "bot.log").open("w+")
    process = subprocess.Popen([sys.executable, *BOT_COMMAND], cwd=directory, stdout=log, stderr=log,
                               env=_bot_environment(directory, url, standin_url, port, workers, secret))
    try:
        deadline = time.monotonic() + START_SECONDS
        registered: dict = {}
        while not registered.get("secret_token"):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"the bot did not start (exit {process.poll()}):\n{log.read()[-3000:]}")
            time.sleep(0.2)
            try:
                if _get_json(f"http://127.0.0.1:{port}/healthz").get("database") == "ok":
                    registered = _get_json(f"{standin_url}/standin/webhook")
            except OSError:
                continue
        while _listeners(port) < workers:  # the N - 1 workers start after the first has registered
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"only {_listeners(port)} of {workers} bot processes listen on port {port}")
            time.sleep(0.2)
        notes = []
        if registered["secret_token"] != secret:
            notes.append("HEALTHCODE_WEBHOOK_SECRET not honoured by this runner: used the secret setWebhook sent")
        log.seek(0)
        if IGNORED_WORKERS in log.read() and workers > 1:
            notes.append(f"HEALTHCODE_WEB_WORKERS={workers} ignored by this runner in webhook mode: ONE bot process")
        yield Target(f"http://127.0.0.1:{port}/telegram/webhook", registered["secret_token"], standin_url,
                     process.pid), notes
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for(generator: multiprocessing.process.BaseProcess, results: Any) -> dict[str, Phase] | str:
    """The generator's results, or why there are none (it died without a word: never wait for ever)."""
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            if not generator.is_alive():
                return f"the load generator exited ({generator.exitcode}) without results"


def run_webhook(users_count: int, database_url: str | None, concurrency: int, processes: int,
                phases: tuple[str, ...] = PHASES) -> tuple[dict[str, Phase], list[str]]:
    """One configuration: the phases' results and notes on how it ran."""
    if processes > 1 and (database_url is None or database_url.startswith("sqlite")):
        raise SystemExit("--processes > 1 in webhook mode needs PostgreSQL (the bot refuses N > 1 on SQLite)")
    base = 7_000_000 + int(time.time()) % 1_000_000 * 100
    users = [base + n for n in range(users_count)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        return asyncio.run(_run(directory, database_url, users, concurrency, processes, phases))


async def _run(directory: Path, database_url: str | None, users: list[int], concurrency: int, processes: int,
               phases: tuple[str, ...]) -> tuple[dict[str, Phase], list[str]]:
    async with own_database(database_url, directory) as url:
        await _prepare(directory, url, users)
        return await asyncio.to_thread(_serve_and_load, directory, url, users, concurrency, processes, phases)


def _serve_and_load(directory: Path, url: str, users: list[int], concurrency: int, processes: int,
                    phases: tuple[str, ...]) -> tuple[dict[str, Phase], list[str]]:
    with standin() as standin_url, bot(directory, url, standin_url, processes) as (target, notes):
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        generator = context.Process(target=generate_in_process,
                                    args=(target, users, concurrency, users[0] * 100, phases, results))
        generator.start()
        outcome = _wait_for(generator, results)
        generator.join()
    if isinstance(outcome, str):
        log = (directory / "bot.log").read_text()[-3000:]
        raise SystemExit(f"the load generator failed: {outcome}\nbot log:\n{log}")
    for label, phase in outcome.items():
        if phase.failures:
            raise SystemExit(f"{label}: " + "; ".join(phase.failures[:5]))
    return outcome, notes
