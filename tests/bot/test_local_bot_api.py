"""The local Bot API answers like Telegram: file names of uploads, and Telegram's size limits."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.local_bot_api import LocalBotApi

CHAT = 10001


@pytest.fixture
async def bot_and_api() -> AsyncIterator[tuple[Bot, LocalBotApi]]:
    api = LocalBotApi()
    bot = Bot("1:X", request=api, get_updates_request=api)
    await bot.initialize()
    yield bot, api
    await bot.shutdown()


async def test_an_uploaded_document_keeps_its_file_name(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    sent = await bot.send_document(CHAT, b"name,colour\n", filename="staff-1-2026-03-02.csv", caption="export")
    assert sent.document.file_name == "staff-1-2026-03-02.csv"
    assert api.messages[(CHAT, sent.message_id)].document_name == "staff-1-2026-03-02.csv"
    assert api.messages[(CHAT, sent.message_id)].document == b"name,colour\n"


async def test_a_document_sent_again_by_file_id_keeps_content_and_name(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    first = await bot.send_document(CHAT, b"{}", filename="healthcode-mydata-20260302.json")
    again = await bot.send_document(CHAT, first.document.file_id)
    assert again.document.file_name == "healthcode-mydata-20260302.json"
    assert api.messages[(CHAT, again.message_id)].document == b"{}"
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(CHAT, "no-such-file")
