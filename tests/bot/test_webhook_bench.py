"""The webhook benchmark's machinery (bench/bot_api_standin.py, bench/webhook_load.py): the Bot API
stand-in answers like Telegram, limits included, through the bot's own request class over HTTP;
and a tiny run with the real bot as a process completes."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bench.bot_api_standin import TOKEN, Standin
from bench.webhook_load import PHASES, run_webhook
from bot.telegram_http import AiohttpRequest

CHAT = 4242
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture
async def standin() -> AsyncIterator[str]:
    runner = web.AppRunner(Standin().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    await runner.cleanup()


@pytest.fixture
async def bot(standin: str) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{standin}/bot", request=AiohttpRequest()) as bot:
        yield bot


def _button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Confirm", callback_data=data)]])


async def test_callback_data_of_65_bytes_is_refused_with_400_and_64_taken(bot: Bot, standin: str) -> None:
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(CHAT, "Please check", reply_markup=_button("x" * 65))
    sent = await bot.send_message(CHAT, "Please check", reply_markup=_button("é" * 32))  # 64 bytes
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin}/bot{TOKEN}/sendMessage", data={
                "chat_id": str(CHAT), "text": "hi", "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "b", "callback_data": "é" * 33}]]})}) as response:
            assert response.status == 400  # as Telegram answers it on the wire
        async with session.post(f"{standin}/standin/latest", json=[CHAT]) as response:
            latest = (await response.json())[str(CHAT)]
    assert latest["message_id"] == sent.message_id and latest["buttons"] == [[["Confirm", "é" * 32]]]


async def test_caption_of_1025_characters_is_refused_and_an_upload_answers_a_reusable_file_id(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(CHAT, PNG, caption="c" * 1025)
    uploaded = await bot.send_photo(CHAT, PNG, caption="c" * 1024)
    file_id = uploaded.photo[-1].file_id
    again = await bot.send_photo(CHAT, file_id, caption="Green code")
    assert again.photo[-1].file_id == file_id
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(CHAT, "no-such-file-id")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "t" * 4097)


async def test_set_webhook_is_recorded_with_its_secret(bot: Bot, standin: str) -> None:
    assert (await bot.get_me()).is_bot
    await bot.set_webhook("https://bench.invalid/telegram/webhook", secret_token="s3cret")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{standin}/standin/webhook") as response:
            assert await response.json() == {"url": "https://bench.invalid/telegram/webhook", "secret_token": "s3cret"}


async def test_a_wrong_token_is_unauthorized(standin: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{standin}/bot9:WRONG/getMe") as response:
            assert response.status == 401


def test_a_tiny_webhook_run_with_the_real_bot_completes() -> None:
    results, _notes = run_webhook(3, None, 3, 1)
    for label in PHASES:
        phase = results[label]
        assert len(phase.latencies) == 3 and not phase.failures
        assert phase.bot_cpu > 0 and phase.elapsed > 0


def test_two_processes_on_sqlite_are_refused_before_anything_starts() -> None:
    with pytest.raises(SystemExit, match="needs PostgreSQL"):
        run_webhook(3, None, 3, 2)


def test_the_in_process_mixed_run_completes_and_a_failing_process_is_reported_not_waited_for() -> None:
    # --mixed walks everyone to Confirm on a later day; one day later /checkin offered the one-tap
    # "same as yesterday" instead, the walk failed in the bot process, and the parent waited forever.
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "bench.checkin", "--users", "4", "--mixed"],
                         capture_output=True, text=True, timeout=240, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "cached while fresh render" in run.stdout and "fresh beside cached" in run.stdout
