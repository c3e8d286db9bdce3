"""Declarations per second through the real Application and the local Bot API (no network).

    python -m bench.checkin --users 2000            # SQLite (a temp file)
    python -m bench.checkin --users 2000 --processes 2   # two bot processes sharing the database
    python -m bench.checkin --users 2000 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.checkin --users 1000 --mixed        # also: cached p99 while fresh cards render
    python -m bench.checkin --users 1000 --render threads   # cards drawn in threads, as before
    python -m bench.checkin --users 1000 --floor        # also bench.floor, and our cost over it
    python -m bench.checkin --webhook ...               # the bot as processes, over HTTP: bench/webhook_suite.py

Each synthetic user is registered through storage, then walked through /checkin up to the
confirm step. What is timed is the last answer (pressing Confirm) until the reply has been
sent, for all users concurrently:
  * "fresh QR"  - the first declaration of the day: a new credential, a new card image;
  * "cached QR" - the same answers again the same day: same status, so the credential and
                  Telegram's file_id are reused and no image is rendered;
  * "mixed" (--mixed) - the next day, half the users declare for the first time (fresh cards) while
                  the other half, who declared already that day, declare again (cached), all at once:
                  the cached half's p50/p99 is what a cached confirmation costs while cards render.
Cards are drawn in the bot's process pool (bot.card_rendering, one worker per core) unless
``--render threads``.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.local_bot import local_bot
from bench.scratch_database import scratch_database
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.chat import LocalChat, LocalUser
from bot.services.registration import PRIVACY_NOTICE_VERSION
from bot.settings import load_settings
from storage.records import NewUser

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(n: int) -> str:
    """A valid resident ID, distinct for each n below 20 million (birth dates from 1950 on)."""
    born = date(1950, 1, 1) + timedelta(days=n // 1000 % 20_000)
    body = f"330106{born:%Y%m%d}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(a) * w for a, w in zip(body, W)) % 11]


async def prepare(chat: LocalChat, services, users: list[LocalUser]) -> None:
    async with services.database.unit_of_work() as uow:
        for user in users:
            n = user.telegram_id % 20_000_000  # ids are fresh per run: so are these
            await uow.users.add(NewUser(user.telegram_id, f"用户{n}", resident_id(n), f"138{n:08d}", "330100",
                                        PRIVACY_NOTICE_VERSION, START), START)


async def walk_to_confirm(chat: LocalChat, user: LocalUser) -> None:
    await chat.send_text(user, "/checkin")
    await chat.send_text(user, "36.6")
    symptoms = chat.latest_with_buttons(user)  # the symptoms question (its buttons), whatever else came
    if symptoms is None or not any(data.startswith("ci:sym") for row in symptoms.buttons for _, data in row):
        raise SystemExit(f"user {user.telegram_id}: the temperature was not followed by the symptoms question")
    for data in ("ci:sym:done", "ci:contact:no", "ci:travel:none", "ci:diag:none"):
        await chat.press_data(user, symptoms, data)
    summary = chat.latest_with_buttons(user)
    if not any(data == "ci:confirm" for row in summary.buttons for _, data in row):
        raise SystemExit(f"user {user.telegram_id} did not reach the confirm step: {summary.body[:80]!r}")


async def timed_confirms(chat: LocalChat, users: list[LocalUser], concurrency: int,
                         by_user: dict[int, float] | None = None) -> tuple[float, list[float], float]:
    """Wall seconds, each confirmation's latency, and this process's CPU seconds meanwhile."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    targets = {user.telegram_id: chat.latest_with_buttons(user) for user in users}

    async def confirm(user: LocalUser) -> None:
        target = targets[user.telegram_id]
        async with gate:
            started = time.perf_counter()
            replies = await chat.press_data(user, target, "ci:confirm")
            latencies.append(time.perf_counter() - started)
            if by_user is not None:
                by_user[user.telegram_id] = latencies[-1]
        if not any(reply.photo is not None or reply.photo_file_id is not None for reply in replies):
            raise SystemExit(f"user {user.telegram_id} got no status card after confirming")

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(confirm(u) for u in users))
    return time.perf_counter() - started, latencies, time.process_time() - cpu


PHASES = ("fresh QR", "cached QR")
MIXED = ("cached while fresh render", "fresh beside cached")


def _settings(directory: Path, url: str):
    return load_settings(_env_file=None, database_url=url, state_dir=directory / "state",
                         keys_dir=directory / "keys", public_url="https://hc.example.cn", log_level="WARNING")


async def _mixed(chat: LocalChat, clock: ManualClock, users: list[LocalUser], concurrency: int,
                 barrier: Any) -> dict[str, tuple[float, list[float], float]]:
    """Two days on: the first half confirms once (untimed) so its next confirmation is cached, then
    both halves confirm at once, interleaved: cached and fresh cards in the same load. Two days, so
    that nobody declared yesterday: /checkin then asks its questions instead of offering the one-tap
    "same as yesterday" (which the walk to the Confirm button does not take)."""
    clock.advance(timedelta(days=2))
    cached, fresh = users[: len(users) // 2], users[len(users) // 2:]
    for user in cached:
        await walk_to_confirm(chat, user)
    await timed_confirms(chat, cached, concurrency)
    for user in users:
        await walk_to_confirm(chat, user)
    interleaved = [user for pair in zip(cached, fresh) for user in pair] + fresh[len(cached):]
    by_user: dict[int, float] = {}
    await asyncio.to_thread(barrier.wait)
    elapsed, _, cpu = await timed_confirms(chat, interleaved, concurrency, by_user)
    return {MIXED[0]: (elapsed, [by_user[user.telegram_id] for user in cached], cpu),
            MIXED[1]: (elapsed, [by_user[user.telegram_id] for user in fresh], cpu)}


async def _one_process(directory: Path, url: str, first_id: int, users_count: int, concurrency: int,
                       barrier: Any, render: str = "processes", mixed: bool = False,
                       ) -> dict[str, tuple[float, list[float], float]]:
    """One bot process: its own Application and local Bot API, its own users, the shared database.
    The timed phases start together in every process (``barrier``)."""
    async with local_bot(_settings(directory, url), START, cards_in_processes=render == "processes") as bot:
        chat = bot.chat
        users = [LocalUser(first_id + n, f"U{n}", "en") for n in range(users_count)]
        await prepare(chat, bot.services, users)
        results = {}
        for label in PHASES:
            for user in users:
                await walk_to_confirm(chat, user)
            await asyncio.to_thread(barrier.wait)
            results[label] = await timed_confirms(chat, users, concurrency)
        if mixed:
            results.update(await _mixed(chat, bot.clock, users, concurrency, barrier))
    return results


def _process_main(directory: Path, url: str, first_id: int, users_count: int, concurrency: int,
                  barrier: Any, results: Any, render: str, mixed: bool) -> None:
    try:
        results.put(asyncio.run(_one_process(directory, url, first_id, users_count, concurrency, barrier,
                                             render, mixed)))
    except BaseException as error:  # the parent must hear of it, not wait for a result forever
        results.put(f"{type(error).__name__}: {error}")
        barrier.abort()  # and the other processes must not wait at the barrier for this one
        raise


async def _create_keys_and_schema(directory: Path, url: str) -> None:
    services = await create_services(_settings(directory, url), ManualClock(START), local=True)
    await services.database.dispose()


def run(users_count: int, database_url: str | None, concurrency: int, processes: int, timed: frozenset[str],
        render: str = "processes", mixed: bool = False) -> dict[str, float]:
    """Prints each phase; returns the bot processes' CPU seconds per confirmation, by phase."""
    with tempfile.TemporaryDirectory() as tmp, \
            scratch_database(database_url, "bench_checkin", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}") as url:
        directory = Path(tmp)
        asyncio.run(_create_keys_and_schema(directory, url))  # once, before the processes share them
        base = 5_000_000 + int(time.time()) % 1_000_000 * 100  # fresh ids on a shared PostgreSQL
        share = -(-users_count // processes)
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(processes), context.Queue()
        workers = [context.Process(target=_process_main, args=(directory, url, base + n * share,
                                                               min(share, users_count - n * share),
                                                               concurrency, barrier, results, render, mixed))
                   for n in range(processes)]
        for worker in workers:
            worker.start()
        gathered = [results.get() for _ in workers]
        failures = [result for result in gathered if isinstance(result, str)]
        if failures:
            for worker in workers:
                worker.kill()
            raise SystemExit(f"a bot process failed: {failures[0]}")
        for worker in workers:
            worker.join()
            if worker.exitcode != 0:
                raise SystemExit(f"a bot process failed (exit {worker.exitcode})")
    backend = url.split(":", 1)[0]
    cpu_per_confirmation = {label: sum(result[label][2] for result in gathered) / users_count for label in PHASES}
    for label in PHASES + (MIXED if mixed else ()):
        if label not in timed and label in PHASES:
            continue
        elapsed = max(result[label][0] for result in gathered)
        latencies = sorted(latency for result in gathered for latency in result[label][1])
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
        rate = f"{users_count / elapsed:8.0f} declarations/s" if label in PHASES else f"{'':8} (both halves at once)"
        print(f"{backend:<20} {label:<26} {rate}   "
              f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({users_count} users, concurrency {concurrency} "
              f"in each of {processes} process(es), cards in {render})")
    for label in PHASES:
        print(f"{backend:<20} {label:<26} {cpu_per_confirmation[label] * 1e3:8.2f} ms CPU per confirmation in the bot "
              f"process(es), the local Bot API included, card-render workers not")
    return cpu_per_confirmation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--processes", type=int, default=1,
                        help="bot processes sharing the database, each with its own share of the users")
    parser.add_argument("--report", choices=("both", "fresh QR", "cached QR"), default="both",
                        help="print one phase only (both always run: the cached phase needs the fresh one)")
    parser.add_argument("--render", choices=("processes", "threads"), default="processes",
                        help="draw cards in the bot's process pool (production) or in threads (as before)")
    parser.add_argument("--mixed", action="store_true",
                        help="also time cached confirmations while fresh cards render (the next day)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure bench.floor on the same database and print our CPU per cached "
                             "confirmation over it")
    parser.add_argument("--floor-updates", type=int, default=3000, help="bench.floor's --updates for --floor")
    webhook = parser.add_argument_group("webhook mode (bench/webhook_suite.py)")
    webhook.add_argument("--webhook", action="store_true",
                         help="the real bot as processes (python -m bot run, webhook mode, N = --processes), a "
                              "Bot API stand-in over HTTP, and a load generator POSTing updates")
    webhook.add_argument("--side-by-side", action="store_true",
                         help="with --webhook: SQLite 1 process, PostgreSQL (--database-url) 1 and 2, in one run")
    webhook.add_argument("--repeat", type=int, default=2, help="with --side-by-side: runs per configuration")
    args = parser.parse_args()
    if args.webhook:
        _webhook_main(parser, args)
        return
    if args.mixed and args.users < 2:
        parser.error("--mixed needs at least 2 users (one half cached, one half fresh)")
    if min(args.users, args.concurrency, args.processes) < 1 or args.processes > args.users:
        parser.error("--users, --concurrency and --processes must be at least 1, with no more processes than users")
    timed = frozenset(("fresh QR", "cached QR")) if args.report == "both" else frozenset((args.report,))
    cpu = run(args.users, args.database_url, args.concurrency, args.processes, timed, args.render, args.mixed)
    if args.floor:
        from bench.floor import run as floor_run

        print(f"bench.floor ({args.floor_updates} updates):")
        floor = asyncio.run(floor_run(args.floor_updates, args.database_url))["floor_cpu"]
        print(f"cached confirmation: {cpu['cached QR'] * 1e3:.2f} ms of CPU in the bot process(es) vs the floor's "
              f"{floor * 1e3:.2f} ms of CPU = {cpu['cached QR'] / floor:.2f}x")


def _webhook_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from bench import webhook_suite

    if args.mixed or args.render != "processes" or args.report != "both":
        parser.error("--mixed, --render and --report are for the in-process mode, not --webhook")
    if min(args.users, args.concurrency, args.processes, args.repeat) < 1:
        parser.error("--users, --concurrency, --processes and --repeat must be at least 1")
    if args.side_by_side:
        if not (args.database_url or "").startswith("postgresql"):
            parser.error("--side-by-side needs --database-url postgresql+asyncpg://… (SQLite runs beside it)")
        runs = webhook_suite.side_by_side(args.users, args.database_url, args.concurrency, args.repeat)
    else:
        if args.processes > 1 and not (args.database_url or "").startswith("postgresql"):
            parser.error("--processes > 1 in webhook mode needs PostgreSQL: the bot refuses N > 1 on SQLite")
        results = webhook_suite.one(args.users, args.database_url, args.concurrency, args.processes)
        name = "sqlite" if args.database_url is None else "postgresql"
        runs = {(name, args.database_url, args.processes): {label: [phase] for label, phase in results.items()}}
    if args.floor:
        webhook_suite.floor_ratios(runs, args.floor_updates)


if __name__ == "__main__":
    main()
