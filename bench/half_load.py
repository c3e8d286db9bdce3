"""Cached confirmations while fresh cards render, at half the measured maximum load.

    python -m bench.half_load --users 400
    python -m bench.half_load --users 400 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

(On PostgreSQL the run creates a database of its own beside the one named, and drops it afterwards.)

One bot process: the real Application, the in-process Bot API, cards drawn in the bot's process pool.
Each round is a new day on which half the users have already declared once (their next confirmation
is cached: same status, same card) and the other half declare for the first time (a fresh card):

1. **maximum**: both halves press Confirm at once, 32 in flight (closed loop, as `bench.checkin --mixed`):
   confirmations per second is the maximum mixed load;
2. **half load**: the same mix again, but arriving on a schedule at half that rate (open loop: each press
   starts at its time, whether or not earlier ones have finished), so queueing is what the load causes,
   not what the benchmark imposes. Reported: p50/p99 of the cached half and of the fresh half.

Issue 14's target: cached p99 below 50 ms at half the measured maximum load.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.checkin import START, _settings, prepare, walk_to_confirm
from bench.local_bot import local_bot
from bench.scratch_database import scratch_database
from bot.clock import ManualClock
from bot.local.chat import LocalChat, LocalUser

CONCURRENCY = 32


async def _confirm(chat: LocalChat, user: LocalUser) -> float:
    target = chat.latest_with_buttons(user)
    assert target is not None, "walk_to_confirm leaves the summary with its buttons"
    started = time.perf_counter()
    replies = await chat.press_data(user, target, "ci:confirm")
    if not any(reply.photo is not None or reply.photo_file_id is not None for reply in replies):
        raise SystemExit(f"user {user.telegram_id} got no status card after confirming")
    return time.perf_counter() - started


async def _new_day(chat: LocalChat, clock: ManualClock, users: list[LocalUser]) -> list[tuple[LocalUser, bool]]:
    """A new day, with the first half declared once already: (user, cached?) interleaved, at the summary.
    Two days on, so that nobody declared yesterday: /checkin then asks the questions rather than offering
    the one-tap "same as yesterday" instead."""
    clock.advance(timedelta(days=2))
    cached, fresh = users[: len(users) // 2], users[len(users) // 2:]
    for user in cached:
        await walk_to_confirm(chat, user)
        await _confirm(chat, user)
    for user in users:
        await walk_to_confirm(chat, user)
    return [(user, user in cached) for pair in zip(cached, fresh) for user in pair] + [(u, False) for u in fresh[len(cached):]]


async def _closed_loop(chat: LocalChat, mix: list[tuple[LocalUser, bool]]) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(user: LocalUser) -> None:
        async with gate:
            await _confirm(chat, user)

    started = time.perf_counter()
    await asyncio.gather(*(one(user) for user, _ in mix))
    return len(mix) / (time.perf_counter() - started)


async def _open_loop(chat: LocalChat, mix: list[tuple[LocalUser, bool]], rate: float) -> dict[bool, list[float]]:
    latencies: dict[bool, list[float]] = {True: [], False: []}
    loop = asyncio.get_running_loop()
    begin = loop.time()

    async def one(index: int, user: LocalUser, cached: bool) -> None:
        await asyncio.sleep(max(0.0, begin + index / rate - loop.time()))
        latencies[cached].append(await _confirm(chat, user))

    await asyncio.gather(*(one(index, user, cached) for index, (user, cached) in enumerate(mix)))
    return latencies


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"


async def _measure(directory: Path, url: str, users_count: int) -> tuple[float, dict[bool, list[float]]]:
    async with local_bot(_settings(directory, url), START) as bot:
        base = 7_000_000 + int(time.time()) % 1_000_000 * 100  # fresh ids on a shared PostgreSQL
        users = [LocalUser(base + n, f"H{n}", "en") for n in range(users_count)]
        await prepare(bot.chat, bot.services, users)
        maximum = await _closed_loop(bot.chat, await _new_day(bot.chat, bot.clock, users))
        return maximum, await _open_loop(bot.chat, await _new_day(bot.chat, bot.clock, users), maximum / 2)


def run(users_count: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with scratch_database(database_url, "bench_half_load", f"sqlite+aiosqlite:///{directory / 'bench.db'}") as url:
            maximum, latencies = asyncio.run(_measure(directory, url, users_count))
    backend = url.split(":", 1)[0]
    print(f"{backend:<20} maximum mixed load        {maximum:8.0f} confirmations/s (closed loop, {CONCURRENCY} in flight)")
    print(f"{backend:<20} cached at half that load  {_percentiles(latencies[True])}   (arrivals at {maximum / 2:.0f}/s)")
    print(f"{backend:<20} fresh at half that load   {_percentiles(latencies[False])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.users < 4:
        parser.error("--users must be at least 4 (a cached half and a fresh half)")
    run(args.users, args.database_url)


if __name__ == "__main__":
    main()
