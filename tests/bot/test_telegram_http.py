"""The production Bot API client (bot.telegram_http.AiohttpRequest) over real HTTP on 127.0.0.1.

Every answer a Bot API can give must become the exception ptb's own HTTPXRequest would raise, with
the same message: both classes talk to the same loopback server here and their outcomes are
compared. Also: timeouts, refused connections, multipart uploads as the server receives them, file
downloads, the connection pool closed at shutdown, and a real ptb Bot against the fake Bot API
process (tests/bot/fake_telegram_server.py).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram_http import AiohttpRequest
from tests.bot.fake_telegram import fake_telegram

TOKEN = "1:HTTPTEST"
CLASSES = [AiohttpRequest, HTTPXRequest]

# What a Bot API may answer: (status, body). The body is bytes as sent.
ANSWERS: dict[str, tuple[int, bytes]] = {
    "ok": (200, b'{"ok": true, "result": {"answer": 42}}'),
    "bad_request": (400, b'{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}'),
    "unauthorized": (401, b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'),
    "forbidden": (403, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}'),
    "not_found": (404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'),
    "conflict": (409, b'{"ok": false, "error_code": 409, "description": "Conflict: terminated by other getUpdates"}'),
    "flood": (429, b'{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7", '
                   b'"parameters": {"retry_after": 7}}'),
    "migrated": (400, b'{"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded", '
                      b'"parameters": {"migrate_to_chat_id": -1001234}}'),
    "internal": (500, b'{"ok": false, "error_code": 500, "description": "Internal Server Error"}'),
    "bad_gateway": (502, b"<html>502 Bad Gateway</html>"),
    "unavailable": (503, b""),
    "odd_status": (599, b"{}"),
    "not_json": (200, b"<html>surprise</html>"),
}


@dataclass
class LoopbackApi:
    url: str
    received: list[dict] = field(default_factory=list)
    server: web.Server | None = None

    @property
    def open_connections(self) -> int:
        return len(self.server.connections) if self.server else 0


@pytest.fixture
async def api() -> AsyncIterator[LoopbackApi]:
    state = LoopbackApi(url="")

    async def answer(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "slow":
            await asyncio.sleep(2)
        if name == "echo":
            received: dict = {"content_type": request.content_type, "fields": {}, "files": {}}
            if request.content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if part.filename is not None:
                        received["files"][part.name] = {"filename": part.filename,
                                                        "content_type": part.headers.get("Content-Type"),
                                                        "content": (await part.read()).hex()}
                    else:
                        received["fields"][part.name] = await part.text()
            else:
                received["fields"] = dict(await request.post())
            received["user_agent"] = request.headers.get("User-Agent")
            state.received.append(received)
            return web.json_response({"ok": True, "result": True})
        if name == "file":
            return web.Response(body=bytes(range(256)) * 4, content_type="application/octet-stream")
        status, body = ANSWERS.get(name, ANSWERS["ok"])
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/bot{token}/{name}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    state.server = runner.server
    try:
        yield state
    finally:
        await runner.cleanup()


async def _outcome(request: BaseRequest, url: str, data: RequestData | None = None) -> tuple[str, str, object]:
    """What ptb's post() gives: the result, or the exception's type, message and retry/migrate value."""
    try:
        return "result", "", await request.post(url, data)
    except TelegramError as error:
        extra = getattr(error, "retry_after", None) or getattr(error, "new_chat_id", None)
        return type(error).__name__, str(error), extra


@pytest.mark.parametrize("answer", sorted(ANSWERS))
async def test_every_answer_maps_to_what_httpx_request_raises(api: LoopbackApi, answer: str) -> None:
    outcomes = []
    for cls in CLASSES:
        async with cls() as request:
            outcomes.append(await _outcome(request, f"{api.url}/bot{TOKEN}/{answer}"))
    ours, theirs = outcomes
    assert ours == theirs
    expected = {"ok": "result", "bad_request": "BadRequest", "unauthorized": "InvalidToken",
                "forbidden": "Forbidden", "not_found": "InvalidToken", "conflict": "Conflict",
                "flood": "RetryAfter", "migrated": "ChatMigrated", "internal": "NetworkError",
                "bad_gateway": "NetworkError", "unavailable": "NetworkError", "odd_status": "NetworkError",
                "not_json": "TelegramError"}[answer]
    assert ours[0] == expected


async def test_a_flood_answer_carries_its_retry_after(api: LoopbackApi) -> None:
    async with AiohttpRequest() as request:
        with pytest.raises(RetryAfter) as raised:
            await request.post(f"{api.url}/bot{TOKEN}/flood")
    assert raised.value.retry_after == 7


@pytest.mark.parametrize("cls", CLASSES)
async def test_a_slow_answer_times_out(api: LoopbackApi, cls: type[BaseRequest]) -> None:
    async with cls(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{api.url}/bot{TOKEN}/slow")
        # A per-call timeout overrides the default, as ptb passes one for getUpdates.
        with pytest.raises(TimedOut):
            await request.post(f"{api.url}/bot{TOKEN}/slow", read_timeout=0.1)


@pytest.mark.parametrize("cls", CLASSES)
async def test_a_refused_connection_is_a_network_error(cls: type[BaseRequest]) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with cls(connect_timeout=1) as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)


async def test_parameters_and_uploads_arrive_as_httpx_request_sends_them(api: LoopbackApi) -> None:
    picture = bytes(range(256)) * 3
    card = InputFile(picture, filename="card.png", attach=True)  # one attach:// name for both
    for cls in CLASSES:
        async with cls() as request:
            # What Bot.send_message and Bot.send_photo build, posted directly (the echo answers True).
            plain = RequestData([_parameter("chat_id", 5), _parameter("text", "你好 & =?"),
                                 _parameter("reply_markup", {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]})])
            await request.post(f"{api.url}/bot{TOKEN}/echo", plain)
            upload = RequestData([_parameter("chat_id", 5), _parameter("caption", "卡片"),
                                  _parameter("photo", card)])
            await request.post(f"{api.url}/bot{TOKEN}/echo", upload)
    ours_plain, ours_upload, theirs_plain, theirs_upload = api.received
    assert ours_plain["fields"] == theirs_plain["fields"]
    assert json.loads(ours_plain["fields"]["reply_markup"])["inline_keyboard"][0][0]["callback_data"] == "x"
    assert ours_plain["fields"]["text"] == "你好 & =?"
    assert ours_plain["content_type"] == theirs_plain["content_type"] == "application/x-www-form-urlencoded"
    assert ours_upload["content_type"] == theirs_upload["content_type"] == "multipart/form-data"
    assert ours_upload["fields"] == theirs_upload["fields"]
    assert ours_upload["files"] == theirs_upload["files"]
    (upload_file,) = ours_upload["files"].values()
    assert bytes.fromhex(upload_file["content"]) == picture and upload_file["content_type"] == "image/png"
    assert ours_plain["user_agent"] == theirs_plain["user_agent"] == BaseRequest.USER_AGENT


def _parameter(name: str, value: object) -> RequestParameter:
    return RequestParameter.from_input(name, value)


async def test_files_download_through_retrieve(api: LoopbackApi) -> None:
    async with AiohttpRequest() as request:
        assert await request.retrieve(f"{api.url}/bot{TOKEN}/file") == bytes(range(256)) * 4


async def test_shutdown_closes_the_pooled_connections_and_initialize_reopens(api: LoopbackApi) -> None:
    request = AiohttpRequest(connection_pool_size=4)
    await request.initialize()
    await asyncio.gather(*(request.post(f"{api.url}/bot{TOKEN}/ok") for _ in range(4)))
    assert api.open_connections >= 1  # kept alive in the pool
    await request.shutdown()
    for _ in range(50):
        if api.open_connections == 0:
            break
        await asyncio.sleep(0.02)
    assert api.open_connections == 0 and request.closed
    with pytest.raises(RuntimeError):
        await request.do_request(f"{api.url}/bot{TOKEN}/ok", "POST")
    await request.shutdown()  # twice is harmless
    await request.initialize()
    assert await request.post(f"{api.url}/bot{TOKEN}/ok") == {"answer": 42}
    await request.shutdown()


async def test_a_ptb_bot_talks_to_the_fake_bot_api_through_it() -> None:
    with fake_telegram() as url:
        request = AiohttpRequest()
        async with Bot(TOKEN, base_url=f"{url}/bot", request=request) as bot:
            me = await bot.get_me()
            assert me.username == "rate_bot"
            sent = [await bot.send_message(chat_id=9, text=f"n{n}") for n in range(2)]
            assert [message.text for message in sent] == ["n0", "n1"]
        assert request.closed  # the Bot's shutdown closed the pool


async def test_the_production_application_uses_it(tmp_path, database_url) -> None:
    from bot.application import build_application
    from bot.bootstrap import create_services
    from bot.clock import ManualClock
    from tests.handlers.conftest import START, make_settings

    services = await create_services(make_settings(tmp_path, database_url, telegram_token=TOKEN), ManualClock(START),
                                     local=True)
    try:
        application = build_application(services)
        assert isinstance(application.bot.request, AiohttpRequest)
        assert isinstance(application.updater.bot.request, AiohttpRequest)
    finally:
        await services.database.dispose()
