"""A whole declaration in the chat, timed: what the Mini App's declaration compares with.

    python -m bench.chat_declaration --users 300 [--database-url postgresql+asyncpg://…]

`bench.checkin` times the Confirm press alone: the other five updates of a chat declaration (/checkin,
the temperature, symptoms, contact, travel, diagnosis) are walked untimed beforehand. A person declaring
in the chat sends all six, each a turn of its own; in the Mini App they load the page (the status) and
submit the form. Here every user walks the whole chat declaration, concurrently (32 in flight, one
declaration per slot), through the real Application and the in-process Bot API, cards in the bot's
process pool: "fresh" is the day's first declaration (a new card), "cached" the same answers again.
Printed: declarations per second, p50/p99 of one whole declaration, and the CPU of this process per
declaration (the card-render workers excluded).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.checkin import START, _settings, prepare, walk_to_confirm
from bench.local_bot import local_bot
from bench.scratch_database import scratch_database
from bot.local.chat import LocalChat, LocalUser

PHASES = ("whole chat declaration, fresh card", "whole chat declaration, cached card")


async def _declare(chat: LocalChat, user: LocalUser) -> float:
    started = time.perf_counter()
    await walk_to_confirm(chat, user)
    summary = chat.latest_with_buttons(user)
    assert summary is not None, "walk_to_confirm leaves the summary with its buttons"
    replies = await chat.press_data(user, summary, "ci:confirm")
    if not any(reply.photo is not None or reply.photo_file_id is not None for reply in replies):
        raise SystemExit(f"user {user.telegram_id} got no status card after confirming")
    return time.perf_counter() - started


async def _phase(chat: LocalChat, users: list[LocalUser], concurrency: int) -> tuple[float, list[float], float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(user: LocalUser) -> float:
        async with gate:
            return await _declare(chat, user)

    started, cpu = time.perf_counter(), time.process_time()
    latencies = await asyncio.gather(*(one(user) for user in users))
    return time.perf_counter() - started, list(latencies), time.process_time() - cpu


async def _run(url: str, directory: Path, users_count: int, concurrency: int) -> dict[str, tuple[float, list[float], float]]:
    async with local_bot(_settings(directory, url), START) as bot:
        base = 8_000_000 + int(time.time()) % 1_000_000 * 100
        users = [LocalUser(base + n, f"D{n}", "en") for n in range(users_count)]
        await prepare(bot.chat, bot.services, users)
        return {label: await _phase(bot.chat, users, concurrency) for label in PHASES}


def run(users_count: int, database_url: str | None, concurrency: int = 32) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with scratch_database(database_url, "bench_chat", f"sqlite+aiosqlite:///{directory / 'bench.db'}") as url:
            results = asyncio.run(_run(url, directory, users_count, concurrency))
    backend = (database_url or "sqlite+aiosqlite").split(":", 1)[0]
    for label, (elapsed, latencies, cpu) in results.items():
        ordered = sorted(latencies)
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
        print(f"{backend:<20} {label:<36} {users_count / elapsed:7.0f} declarations/s   "
              f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
              f"CPU {cpu / users_count * 1000:5.2f} ms per declaration ({users_count} users, {concurrency} in flight)",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if min(args.users, args.concurrency) < 1:
        parser.error("--users and --concurrency must be at least 1")
    run(args.users, args.database_url, args.concurrency)


if __name__ == "__main__":
    main()
