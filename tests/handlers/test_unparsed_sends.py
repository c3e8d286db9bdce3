"""handlers.unparsed_sends: the typed method's request on the wire, its limiter, its errors; no Message.

Each case runs ptb's typed method on one bot and ours on another, each against its own Bot API
stand-in in the same state, and compares what arrived: the method, every parameter in order and
its JSON (the reply markup), with and without ``telegram.ext.Defaults`` (a setting ptb inserts).
"""
from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any
from unittest import mock
from urllib.parse import quote_plus

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, WebAppInfo
from telegram.error import TelegramError
from telegram.ext import Defaults, ExtBot

from bot.local.bot_api import LocalBotApi
from bot.local.chat import LocalUser
from bot.rate_limit import OutgoingLimiter
from bot.telegram_http import AiohttpRequest
from handlers.rate_limiter import TelegramRateLimiter, retry_seconds
from handlers.unparsed_sends import MessageRef, edit_text, send_photo_by_id, send_text
from tests.bot.fake_telegram import fake_telegram
from tests.handlers.conftest import Harness

CHAT = 20001
MARKUP = InlineKeyboardMarkup([
    [InlineKeyboardButton("✅ Confirm", callback_data="ci:confirm"), InlineKeyboardButton("Edit", callback_data="ci:e")],
    [InlineKeyboardButton("Open", web_app=WebAppInfo("https://hc.example.cn/app"))],
])
FILE_ID = "local-file-1"  # the first file a LocalBotApi stores
DEFAULTS = Defaults(parse_mode="HTML", disable_notification=True, protect_content=True,
                    link_preview_options=LinkPreviewOptions(is_disabled=True))

Send = Callable[[Bot], Awaitable[Any]]
# (name, the typed method, ours, the Bot API method): one call of each kind a reply makes.
CASES: list[tuple[str, Send, Send, str]] = [
    ("text with buttons", lambda b: b.send_message(CHAT, "已申报 ✅ & more", reply_markup=MARKUP),
     lambda b: send_text(b, CHAT, "已申报 ✅ & more", MARKUP), "sendMessage"),
    ("text alone", lambda b: b.send_message(CHAT, "hello"), lambda b: send_text(b, CHAT, "hello", None), "sendMessage"),
    ("edit with buttons", lambda b: b.edit_message_text("Declared", chat_id=CHAT, message_id=1, reply_markup=MARKUP),
     lambda b: edit_text(b, CHAT, 1, "Declared", MARKUP), "editMessageText"),
    ("edit alone", lambda b: b.edit_message_text("Declared", chat_id=CHAT, message_id=1),
     lambda b: edit_text(b, CHAT, 1, "Declared", None), "editMessageText"),
    ("card by file id, buttons", lambda b: b.send_photo(CHAT, FILE_ID, caption="绿码 · Green", reply_markup=MARKUP),
     lambda b: send_photo_by_id(b, CHAT, FILE_ID, "绿码 · Green", MARKUP), "sendPhoto"),
    ("photo without caption", lambda b: b.send_photo(CHAT, FILE_ID), lambda b: send_photo_by_id(b, CHAT, FILE_ID, None, None),
     "sendPhoto"),
]
IDS = [case[0] for case in CASES]


class WireLog(LocalBotApi):
    """The local Bot API, also keeping each request's parameters as ptb put them on the wire (JSON)."""

    def __init__(self) -> None:
        super().__init__()
        self.wire: list[tuple[str, list[tuple[str, str]]]] = []
        self.store_file(b"\x89PNG card")
        self.messages_sent = 0

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any):
        self.wire.append((url.rsplit("/", 1)[-1], list(request_data.json_parameters.items()) if request_data else []))
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def _local_bot(defaults: Defaults | None, rate_limiter: TelegramRateLimiter | None = None) -> tuple[ExtBot, WireLog]:
    api = WireLog()
    bot: ExtBot = ExtBot("1:LOCAL", request=api, get_updates_request=api, defaults=defaults, rate_limiter=rate_limiter)
    await bot.initialize()
    await bot.send_message(CHAT, "the message the edits replace")  # message 1 in every stand-in
    api.wire.clear()
    return bot, api


@pytest.mark.parametrize("defaults", [None, DEFAULTS], ids=["no defaults", "defaults"])
@pytest.mark.parametrize(("name", "typed", "ours", "method"), CASES, ids=IDS)
async def test_the_local_bot_api_receives_what_the_typed_method_sends(
    name: str, typed: Send, ours: Send, method: str, defaults: Defaults | None
) -> None:
    typed_bot, typed_api = await _local_bot(defaults)
    our_bot, our_api = await _local_bot(defaults)
    message = await typed(typed_bot)
    sent = await ours(our_bot)
    assert our_api.wire == typed_api.wire and [m for m, _ in our_api.wire] == [method]
    assert our_api.calls[-1].params == typed_api.calls[-1].params  # as the stand-in read them
    assert isinstance(message, Message) and sent == MessageRef.of(message)
    if defaults is not None:  # ptb inserted them on both
        assert dict(our_api.wire[0][1])["parse_mode"] == "HTML"


async def test_the_card_s_answer_gives_its_file_id_and_the_text_s_its_message_id() -> None:
    bot, _ = await _local_bot(None)
    assert await send_photo_by_id(bot, CHAT, FILE_ID, "card", None) == MessageRef(2, FILE_ID)
    assert await send_text(bot, CHAT, "hello", None) == MessageRef(3, None)
    assert await edit_text(bot, CHAT, 3, "hello again", None) == MessageRef(3, None)
    assert MessageRef.of_answer(True) is None  # an inline message's edit answers True


@pytest.mark.parametrize("defaults", [None, DEFAULTS], ids=["no defaults", "defaults"])
async def test_the_http_stand_in_receives_the_same_bodies_through_the_production_client_and_limiter(
    defaults: Defaults | None
) -> None:
    async def bodies(url: str, sends: list[Send]) -> list[dict]:
        async with ExtBot("1:WIRE", base_url=f"{url}/bot", request=AiohttpRequest(), defaults=defaults,
                          rate_limiter=TelegramRateLimiter(OutgoingLimiter(bulk_rate=25.0))) as bot:
            for send in sends:
                await send(bot)
        async with aiohttp.ClientSession() as session, session.get(f"{url}/records") as response:
            return [b for b in (await response.json())["bodies"] if b["method"] != "getMe"]

    with fake_telegram(record_bodies=True) as typed_url, fake_telegram(record_bodies=True) as our_url:
        expected = await bodies(typed_url, [typed for _, typed, _, _ in CASES])
        got = await bodies(our_url, [ours for _, _, ours, _ in CASES])
    assert got == expected  # byte for byte: the same parameters, in the same order, the same JSON
    assert [b["method"] for b in got] == [method for *_, method in CASES]
    keyboard = "reply_markup=" + quote_plus(MARKUP.to_json())
    assert [keyboard in b["body"] for b in got] == ["buttons" in name for name, *_ in CASES]


class CountingLimiter(TelegramRateLimiter):
    def __init__(self) -> None:
        super().__init__(OutgoingLimiter(bulk_rate=25.0))
        self.endpoints: list[str] = []

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        self.endpoints.append(endpoint)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


@pytest.mark.parametrize(("name", "typed", "ours", "method"), CASES, ids=IDS)
async def test_every_call_passes_the_bot_s_one_limiter_which_retries_a_reply_after_429(
    name: str, typed: Send, ours: Send, method: str
) -> None:
    limiter = CountingLimiter()
    bot, api = await _local_bot(None, rate_limiter=limiter)
    limiter.endpoints.clear()
    api.fail_next(method, 429, "Too Many Requests: retry after 1", retry_after=1)
    sent = await ours(bot)
    assert limiter.endpoints == [method]  # one admission, the retry inside it
    assert [m for m, _ in api.wire] == [method, method] and sent is not None


ERRORS = [
    (400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
     None),
    (400, "Bad Request: wrong file identifier/HTTP URL specified", None),
    (403, "Forbidden: bot was blocked by the user", None),
    (429, "Too Many Requests: retry after 7", 7),
    (500, "Internal Server Error", None),
    (502, "Bad Gateway", None),
    (401, "Unauthorized", None),
]


@pytest.mark.parametrize(("code", "description", "retry_after"), ERRORS, ids=[f"{e[0]} {e[1][:24]}" for e in ERRORS])
@pytest.mark.parametrize(("name", "typed", "ours", "method"), CASES, ids=IDS)
async def test_an_error_is_the_typed_method_s_error(
    name: str, typed: Send, ours: Send, method: str, code: int, description: str, retry_after: int | None
) -> None:
    raised: list[TelegramError] = []
    for send in (typed, ours):
        bot, api = await _local_bot(None)
        api.fail_next(method, code, description, retry_after=retry_after)
        with pytest.raises(TelegramError) as error:
            await send(bot)
        raised.append(error.value)
    expected, got = raised
    assert type(got) is type(expected) and str(got) == str(expected)
    if retry_after is not None:
        assert retry_seconds(got) == retry_seconds(expected) == retry_after  # type: ignore[arg-type]


async def test_a_bot_that_replaces_keyboards_gets_the_typed_method() -> None:
    """With arbitrary callback data (which we do not use), ExtBot swaps each button's data for a key
    and learns it back from the parsed answer: only the typed method does that, so ours defers to it."""
    bot, api = await _local_bot(None)
    cache = mock.Mock()
    cache.process_keyboard.side_effect = lambda markup: markup
    with mock.patch.object(ExtBot, "callback_data_cache", new_callable=mock.PropertyMock, return_value=cache):
        for _, _, ours, _ in CASES:
            await ours(bot)
    assert cache.process_keyboard.call_count == 3 and cache.process_message.call_count == len(CASES)


async def test_a_cached_declaration_parses_no_answer_into_a_message(harness: Harness, citizen: LocalUser) -> None:
    """Every call of a second declaration the same day (the questions, the edits, the confirmation's
    summary and its card by file id) leaves ptb's result parsing (Bot._send_message) unused."""
    await harness.register(citizen)
    await harness.declare(citizen)  # the first: uploads the card, whose file id is then reused
    parsed: list[str] = []
    original = Message.de_json.__func__  # type: ignore[attr-defined]

    def counting(cls, data, bot=None):  # noqa: ANN001, ANN202 - Message.de_json's own
        parsed.append(sys._getframe(1).f_code.co_name)  # who asked: ptb parsing an answer, or an update
        return original(cls, data, bot)

    calls = len(harness.api.calls)
    with mock.patch.object(Message, "de_json", classmethod(counting)):
        replies = await harness.declare(citizen)
    methods = [c.method for c in harness.api.calls[calls:]]
    assert methods[-3:] == ["answerCallbackQuery", "editMessageText", "sendPhoto"]
    assert replies[-1].photo_file_id is not None and "photo" not in harness.api.calls[-1].files  # by its file id
    assert "sendMessage" in methods and parsed, "the flow ran, and updates were parsed"
    assert parsed.count("_send_message") == 0, "an answer was parsed into a Message"
