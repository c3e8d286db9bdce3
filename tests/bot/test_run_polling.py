"""`healthcode run` end to end: a real process long-polls a Bot API server on 127.0.0.1.

HEALTHCODE_TELEGRAM_API_URL points the real ptb HTTP stack at an aiohttp server
that speaks the Bot API, so polling, the command menu and error handling
(429, 403) are exercised exactly as against Telegram.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiohttp import web

from bot.bootstrap import write_data_key
from bot.credentials.keyring import KeyRing

TOKEN = "123456:TEST"
BLOCKED_CHAT = 666


class BotApiServer:
    def __init__(self) -> None:
        self.pending: list[dict] = []
        self.sent: list[dict] = []
        self.menus: list[dict] = []
        self.throttled_once = False
        self._update_id = 0

    def queue_text(self, user_id: int, text: str) -> None:
        self._update_id += 1
        message = {"message_id": self._update_id, "date": int(time.time()),
                   "chat": {"id": user_id, "type": "private"},
                   "from": {"id": user_id, "is_bot": False, "first_name": "T", "language_code": "en"}, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.pending.append({"update_id": self._update_id, "message": message})

    async def handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = dict(await request.post()) if request.can_read_body else {}
        if request.content_type == "application/json":
            params = await request.json()
        return await getattr(self, f"api_{method}", self.api_unknown)(params)

    async def api_unknown(self, params: dict) -> web.Response:
        return _ok(True)

    async def api_getMe(self, params: dict) -> web.Response:
        return _ok({"id": 42, "is_bot": True, "first_name": "HC", "username": "hc_bot"})

    async def api_setMyCommands(self, params: dict) -> web.Response:
        self.menus.append(params)
        return _ok(True)

    async def api_getUpdates(self, params: dict) -> web.Response:
        offset = int(params.get("offset") or 0)
        self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending:
            await asyncio.sleep(0.2)
        return _ok(self.pending[:10])

    async def api_sendMessage(self, params: dict) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id == BLOCKED_CHAT:
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot was blocked by the user"}, status=403)
        if not self.throttled_once:
            self.throttled_once = True
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                      "parameters": {"retry_after": 1}}, status=429)
        self.sent.append(params)
        return _ok({"message_id": len(self.sent), "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"}, "text": params.get("text", "")})


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


async def _wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.1)


def _env(tmp_path: Path, api_url: str) -> dict[str, str]:
    write_data_key(tmp_path / "data.key")
    KeyRing.generate(tmp_path / "keys", datetime.now(timezone.utc))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({
        "HEALTHCODE_TELEGRAM_TOKEN": TOKEN,
        "HEALTHCODE_TELEGRAM_API_URL": api_url,
        "HEALTHCODE_DATA_KEY_FILE": str(tmp_path / "data.key"),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "HEALTHCODE_WEB_PORT": "0",
        "HEALTHCODE_LOG_LEVEL": "DEBUG",
    })
    return env


async def test_run_polls_answers_survives_429_and_403_and_stops_cleanly(tmp_path: Path) -> None:
    api = BotApiServer()
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=_env(tmp_path, f"http://127.0.0.1:{port}/bot"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        api.queue_text(BLOCKED_CHAT, "/start")  # its reply is refused with 403: the bot must carry on
        api.queue_text(5001, "/start")
        await _wait_for(lambda: any("Privacy notice" in m.get("text", "") for m in api.sent))
        assert api.throttled_once  # the first reply met a 429 and was retried, not lost
        api.queue_text(5001, "/help")
        await _wait_for(lambda: any("/checkin" in m.get("text", "") for m in api.sent))
        assert {m.get("language_code") for m in api.menus} >= {"zh", "en"}
        commands = json.loads(api.menus[0]["commands"]) if isinstance(api.menus[0]["commands"], str) else api.menus[0]["commands"]
        assert {c["command"] for c in commands} >= {"start", "checkin", "status"}
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        await runner.cleanup()
    log = output.decode()
    assert process.returncode == 0, log[-2000:]
    assert "blocked the bot" in log
    assert "Traceback" not in log
    assert TOKEN not in log  # URLs carry the token; they must never be logged
