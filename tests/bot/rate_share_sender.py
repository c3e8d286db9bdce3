"""One bot process sending as fast as its share allows, for tests/bot/test_rate_share.py:

    python -m tests.bot.rate_share_sender API_URL DATABASE_URL RATE SECONDS [--no-share]

Starts a RateShare (unless --no-share), floods sendMessage through its OutgoingLimiter from twelve
lanes for SECONDS, stops, and prints how many requests it made.
"""
from __future__ import annotations

import argparse
import asyncio
import secrets

import aiohttp

from bot.clock import monotonic_seconds
from bot.rate_limit import OutgoingLimiter
from bot.rate_share import RateShare
from storage.database import Database
from storage.encryption import FieldCipher


async def main(api: str, database_url: str, rate: int, seconds: float, share: bool) -> int:
    database = Database(database_url, FieldCipher(secrets.token_bytes(32)))
    limiter = OutgoingLimiter(bulk_rate=1, total=rate)
    rate_share = RateShare(database, limiter, rate)
    if share:
        await rate_share.start()
    sent = 0
    until = monotonic_seconds() + seconds
    async with aiohttp.ClientSession() as session:
        async def lane(chat: int) -> None:
            nonlocal sent
            while monotonic_seconds() < until:
                permit = await limiter.admit_reply()
                try:
                    async with session.post(f"{api}/bot1:X/sendMessage", data={"chat_id": chat, "text": "hi"}) as answer:
                        await answer.read()
                    sent += 1
                finally:
                    permit.done()

        await asyncio.gather(*(lane(chat) for chat in range(12)))
    await rate_share.stop()
    await database.dispose()
    return sent


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("api")
    parser.add_argument("database_url")
    parser.add_argument("rate", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--no-share", action="store_true")
    options = parser.parse_args()
    print(asyncio.run(main(options.api, options.database_url, options.rate, options.seconds, not options.no_share)))
