"""A Bot API stand-in over HTTP, in a process of its own: what the webhook benchmark's bot talks to.

    python -m bench.bot_api_standin          # prints its port, then serves until stopped

``POST /bot<token>/<method>`` is answered by the in-process local Bot API's logic
(``bot.local.bot_api.LocalBotApi``): message ids, dates in seconds, a photo upload answered with a
photo ``file_id`` that later sends may use, and Telegram's limits refused with 400 as Telegram words
them (callback data 1-64 bytes, text 4096, caption 1024, an empty text, an unchanged edit, an
unknown file id). Only the transport differs: the form or multipart body the bot's request class
sends is read back into the parameters and files ptb's ``RequestData`` would have held.

A process of its own, so that its CPU is never the bot's (the machine has 2 cores). What the load
generator reads back (never part of Telegram's API):

* ``GET  /standin/webhook``  the last setWebhook's url and secret_token;
* ``POST /standin/latest``   JSON list of chat ids -> each chat's latest message with buttons
  (message_id, text, buttons as [label, callback_data]), as the bot last left it;
* ``GET  /standin/stats``    calls per method, refusals (method, description), photos per chat, and
  this process's CPU seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from typing import Any

from aiohttp import web

from bot.local.bot_api import LocalBotApi, SentMessage

TOKEN = "1:BENCH"


class _Form:
    """What ``LocalBotApi.do_request`` reads of ptb's ``RequestData``: parameters and upload parts."""

    def __init__(self, parameters: dict[str, Any], multipart_data: dict[str, tuple[str, bytes, str]]) -> None:
        self.parameters = parameters
        self.multipart_data = multipart_data


class StandinBotApi(LocalBotApi):
    """The local Bot API's answers, keeping no upload bytes (a card's size is checked, then dropped)
    and an index of each chat's messages (the load generator asks for the latest with buttons)."""

    def __init__(self) -> None:
        super().__init__()
        self.record_calls = False
        self.by_chat: dict[int, list[int]] = collections.defaultdict(list)
        self.method_counts: collections.Counter[str] = collections.Counter()
        self.photos: collections.Counter[int] = collections.Counter()
        self.webhook: dict[str, Any] = {}

    def store_file(self, content: bytes, name: str | None = None) -> str:
        return super().store_file(b"", name)  # the id is what matters later; keep memory flat

    def _new_message(self, params: dict) -> SentMessage:
        message = super()._new_message(params)
        self.by_chat[message.chat_id].append(message.message_id)
        return message

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        result = super()._api_sendPhoto(params, files)
        self.photos[int(params["chat_id"])] += 1
        return result

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token")}
        return True

    def latest_with_buttons(self, chat_id: int) -> dict[str, Any] | None:
        for message_id in reversed(self.by_chat.get(chat_id, ())):
            message = self.messages.get((chat_id, message_id))
            if message is not None and message.buttons:
                return {"message_id": message.message_id, "text": message.text, "caption": message.caption,
                        "buttons": [[list(button) for button in row] for row in message.buttons]}
        return None


class Standin:
    def __init__(self) -> None:
        self.api = StandinBotApi()

    async def bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        parameters: dict[str, Any] = {}
        parts: dict[str, tuple[str, bytes, str]] = {}
        if request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    parts[name] = (value.filename, value.file.read(), value.content_type)
                else:
                    parameters[name] = value
        self.api.method_counts[method] += 1
        status, body = await self.api.do_request(f"{request.path}", "POST", _Form(parameters, parts))  # type: ignore[arg-type]
        return web.Response(status=status, body=body, content_type="application/json")

    async def webhook(self, request: web.Request) -> web.Response:
        return web.json_response(self.api.webhook)

    async def latest(self, request: web.Request) -> web.Response:
        chats = await request.json()
        return web.json_response({str(chat): self.api.latest_with_buttons(int(chat)) for chat in chats})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({
            "methods": dict(self.api.method_counts),
            "refusals": [[refusal.method, refusal.description] for refusal in self.api.limit_refusals],
            "photos": {str(chat): count for chat, count in self.api.photos.items()},
            "cpu_seconds": time.process_time(),
        })

    def app(self) -> web.Application:
        app = web.Application(client_max_size=20 * 1024 * 1024)  # Telegram's own 413 is the api's to give
        app.router.add_post("/bot{token}/{method}", self.bot_api)
        app.router.add_get("/standin/webhook", self.webhook)
        app.router.add_post("/standin/latest", self.latest)
        app.router.add_get("/standin/stats", self.stats)
        return app


async def serve(port: int) -> None:
    runner = web.AppRunner(Standin().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    options = parser.parse_args()
    try:
        asyncio.run(serve(options.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
