"""The local Bot API answers like Telegram: file names of uploads, and Telegram's size limits."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.local.bot_api import LocalBotApi

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


def _keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data=data)]])


@pytest.mark.parametrize("data", ["x" * 65, "é" * 33, "码" * 22])  # 65, 66 and 66 bytes of UTF-8
async def test_callback_data_over_64_bytes_is_refused_like_telegram(bot_and_api: tuple[Bot, LocalBotApi], data: str) -> None:
    bot, api = bot_and_api
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "offer", reply_markup=_keyboard(data))
    assert api.messages == {}  # nothing reached the chat
    assert [refusal.description for refusal in api.limit_refusals] == ["Bad Request: BUTTON_DATA_INVALID"]


async def test_callback_data_of_64_bytes_fits(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    sent = await bot.send_message(CHAT, "offer", reply_markup=_keyboard("é" * 32))
    assert api.messages[(CHAT, sent.message_id)].buttons == [[("Accept", "é" * 32)]]
    assert api.limit_refusals == []


async def test_every_way_to_place_a_button_checks_its_data(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    sent = await bot.send_message(CHAT, "offer")
    too_long = _keyboard("m" * 65)
    attempts = [
        lambda: bot.edit_message_text("offer again", chat_id=CHAT, message_id=sent.message_id, reply_markup=too_long),
        lambda: bot.edit_message_reply_markup(chat_id=CHAT, message_id=sent.message_id, reply_markup=too_long),
        lambda: bot.send_photo(CHAT, b"\x89PNG", reply_markup=too_long),
        lambda: bot.send_document(CHAT, b"{}", filename="a.json", reply_markup=too_long),
    ]
    for attempt in attempts:
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            await attempt()
    assert list(api.messages) == [(CHAT, sent.message_id)] and api.messages[(CHAT, sent.message_id)].buttons == []
    assert len(api.limit_refusals) == 4


async def test_text_is_1_to_4096_characters_counted_as_telegram_does(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    await bot.send_message(CHAT, "a" * 4096)
    await bot.send_message(CHAT, "😀" * 2048)  # an emoji is two UTF-16 code units: 4096
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(CHAT, "<b>" + "a" * 4097 + "</b>", parse_mode="HTML")
    await bot.send_message(CHAT, "<b>" + "a" * 4090 + "</b>", parse_mode="HTML")  # tags are not text
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(CHAT, " \n ")
    sent = await bot.send_message(CHAT, "short")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.edit_message_text("a" * 4097, chat_id=CHAT, message_id=sent.message_id)
    assert api.messages[(CHAT, sent.message_id)].text == "short"
    assert len(api.messages) == 4 and len(api.limit_refusals) == 5


async def test_a_caption_is_at_most_1024_characters(bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    bot, api = bot_and_api
    photo = await bot.send_photo(CHAT, b"\x89PNG", caption="c" * 1024)
    await bot.send_photo(CHAT, b"\x89PNG")  # no caption at all is fine
    for attempt in (lambda: bot.send_photo(CHAT, b"\x89PNG", caption="c" * 1025),
                    lambda: bot.send_document(CHAT, b"{}", filename="a.json", caption="c" * 1025),
                    lambda: bot.edit_message_caption(chat_id=CHAT, message_id=photo.message_id, caption="😀" * 513)):
        with pytest.raises(BadRequest, match="(?i)message caption is too long"):
            await attempt()
    assert api.messages[(CHAT, photo.message_id)].caption == "c" * 1024 and len(api.messages) == 2
    assert len(api.limit_refusals) == 3


async def test_uploads_are_at_most_10_mb_for_a_photo_and_50_mb_for_a_document(
        bot_and_api: tuple[Bot, LocalBotApi]) -> None:
    from telegram.error import TelegramError

    bot, api = bot_and_api
    await bot.send_photo(CHAT, b"\x89PNG" + bytes(10 * 1024 * 1024 - 4))
    pdf = await bot.send_document(CHAT, b"%PDF-" + bytes(50 * 1024 * 1024 - 5), filename="healthcode-paper.pdf")
    assert api.messages[(CHAT, pdf.message_id)].document_name == "healthcode-paper.pdf"
    for attempt in (lambda: bot.send_photo(CHAT, bytes(10 * 1024 * 1024 + 1)),
                    lambda: bot.send_document(CHAT, bytes(50 * 1024 * 1024 + 1), filename="big.pdf")):
        with pytest.raises(TelegramError, match="(?i)too large"):
            await attempt()
    assert [refusal.description for refusal in api.limit_refusals] == ["Request Entity Too Large"] * 2
    assert len(api.messages) == 2
