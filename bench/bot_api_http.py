"""What the three Bot API calls of a confirmation cost the bot, through a real HTTP client.

    python -m bench.bot_api_http [--confirmations 2000]

A confirmation answers the button (answerCallbackQuery), edits the summary (editMessageText) and
sends the card by its file id (sendPhoto). This runs those three through a ptb ``Bot`` (so ptb's
encoding and its parsing of the answers count too) against a Bot API stand-in on 127.0.0.1
(tests/bot/fake_telegram_server.py, a process of its own, so its CPU is not counted), once with
ptb's default ``HTTPXRequest`` and once with the bot's ``AiohttpRequest`` (bot/telegram_http.py),
each with ptb's typed methods (each answer parsed into a ``telegram.Message``); then with the
``AiohttpRequest`` and the reply's own calls (handlers/unparsed_sends.py: the same requests, the
answers left unparsed), as the bot sends a confirmation.

Printed: CPU milliseconds of this process per confirmation (best of three rounds) and wall-clock.
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

from telegram import Bot
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram_http import AiohttpRequest
from handlers.unparsed_sends import edit_text, send_photo_by_id

TOKEN = "1:BENCH"
ROUNDS = 3
SERVER = Path(__file__).resolve().parents[1] / "tests" / "bot" / "fake_telegram_server.py"


async def _confirmations(bot: Bot, count: int, unparsed: bool) -> tuple[float, float]:
    """CPU and wall seconds for ``count`` confirmations, one after another."""
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(count):
        await bot.answer_callback_query(f"q{n}")  # answers True: nothing to parse either way
        if unparsed:
            await edit_text(bot, 7, n + 1, "Declared", None)
            await send_photo_by_id(bot, 7, "AgACAgIAAxkBAAIBcard", "Green code", None)
        else:
            await bot.edit_message_text("Declared", chat_id=7, message_id=n + 1)
            await bot.send_photo(7, photo="AgACAgIAAxkBAAIBcard", caption="Green code")
    return time.process_time() - cpu, time.perf_counter() - wall


async def _measure(request: BaseRequest, url: str, count: int, unparsed: bool) -> tuple[float, float]:
    async with Bot(TOKEN, base_url=f"{url}/bot", request=request) as bot:
        await _confirmations(bot, 50, unparsed)  # warm: connections open, code paths compiled
        rounds = [await _confirmations(bot, count, unparsed) for _ in range(ROUNDS)]
    cpu, wall = min(rounds)
    return cpu / count * 1000, wall / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--confirmations", type=int, default=2000)
    args = parser.parse_args()
    if args.confirmations < 1:
        parser.error("--confirmations must be at least 1")
    server = subprocess.Popen([sys.executable, str(SERVER), "--throttle-every", str(10**9)],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{int(server.stdout.readline())}"  # type: ignore[union-attr]
        print(f"three Bot API calls per confirmation, {args.confirmations} confirmations, best of {ROUNDS}")
        for name, request, unparsed in (("HTTPXRequest (ptb default)", HTTPXRequest(), False),
                                        ("AiohttpRequest (the bot's)", AiohttpRequest(), False),
                                        ("AiohttpRequest, unparsed", AiohttpRequest(), True)):
            cpu, wall = asyncio.run(_measure(request, url, args.confirmations, unparsed))
            print(f"{name:<28} {cpu:5.2f} ms CPU   {wall:5.2f} ms wall   per confirmation")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
