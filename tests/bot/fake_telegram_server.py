"""A fake Bot API in its own process, for tests that measure what arrives on the wire.

    python tests/bot/fake_telegram_server.py --throttle-every 50 --retry-after 2

Prints its port, then serves ``POST /bot<token>/<method>`` like the Bot API. It records the arrival
time (time.monotonic, which is system-wide, so the test can compare it with its own) of every
request, answers every ``--throttle-every``-th sendMessage with 429 retry_after ``--retry-after``,
and, like Telegram, answers 429 to anything arriving inside such a pause. ``GET /records`` returns
what it saw (with ``--record-bodies``, also each request's method and body as it arrived). A process of its own, so that arrival times never wait for the bot's event loop or GIL.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time

from aiohttp import web

BULK_PREFIX = "📢 BULK "


class FakeTelegram:
    def __init__(self, throttle_every: int, retry_after: int, record_bodies: bool = False) -> None:
        self.arrivals: list[dict] = []
        self.bodies: list[dict] | None = [] if record_bodies else None
        self.throttled: list[list[float]] = []  # [arrival of the refused send, retry_after]
        self._throttle_every = throttle_every
        self._retry_after = retry_after
        self._sends = 0
        self._paused_until = 0.0
        self._ids = itertools.count(1)

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        method = request.match_info["method"]
        if self.bodies is not None:
            self.bodies.append({"method": method, "body": await request.text()})
        form = await request.post()
        chat_id = int(form["chat_id"]) if "chat_id" in form else None
        text = str(form.get("text", ""))
        # "📢 BULK <campaign> <chat>": what the test's renderer sends; anything else is a chat reply.
        bulk = int(text.split()[2]) if text.startswith(BULK_PREFIX) else None
        if method == "getMe":
            return self._answer(now, method, chat_id, bulk, {"id": 1, "is_bot": True, "first_name": "Rate",
                                                             "username": "rate_bot"})
        if now < self._paused_until:  # Telegram refuses everything inside its own retry_after
            return self._refuse(now, method, chat_id, bulk, max(1, round(self._paused_until - now)))
        if method == "sendMessage":
            self._sends += 1
            if self._sends % self._throttle_every == 0:
                self._paused_until = now + self._retry_after
                self.throttled.append([now, self._retry_after])
                return self._refuse(now, method, chat_id, bulk, self._retry_after)
        if method in ("sendMessage", "editMessageText", "sendPhoto"):
            message = {"message_id": next(self._ids), "date": int(time.time()), "text": text,
                       "chat": {"id": chat_id, "type": "private"}}
            if method == "sendPhoto":  # what a status card's send returns (bench/bot_api_http.py)
                message["photo"] = [{"file_id": f"photo-{message['message_id']}", "file_unique_id": "u",
                                     "width": 700, "height": 700}]
            return self._answer(now, method, chat_id, bulk, message)
        return self._answer(now, method, chat_id, bulk, True)

    async def records(self, request: web.Request) -> web.Response:
        records: dict = {"arrivals": self.arrivals, "throttled": self.throttled}
        if self.bodies is not None:
            records["bodies"] = self.bodies
        return web.json_response(records)

    def _answer(self, now: float, method: str, chat_id: int | None, bulk: int | None, result: object) -> web.Response:
        self.arrivals.append({"at": now, "method": method, "chat_id": chat_id, "bulk_campaign": bulk, "status": 200})
        return web.json_response({"ok": True, "result": result})

    def _refuse(self, now: float, method: str, chat_id: int | None, bulk: int | None, seconds: int) -> web.Response:
        self.arrivals.append({"at": now, "method": method, "chat_id": chat_id, "bulk_campaign": bulk, "status": 429})
        return web.json_response({"ok": False, "error_code": 429,
                                  "description": f"Too Many Requests: retry after {seconds}",
                                  "parameters": {"retry_after": seconds}}, status=429)


async def serve(api: FakeTelegram) -> None:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    app.router.add_get("/records", api.records)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    while True:
        await asyncio.sleep(3600)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--throttle-every", type=int, default=50)
    parser.add_argument("--retry-after", type=int, default=2)
    parser.add_argument("--record-bodies", action="store_true")
    options = parser.parse_args()
    try:
        asyncio.run(serve(FakeTelegram(options.throttle_every, options.retry_after, options.record_bodies)))
    except KeyboardInterrupt:
        sys.exit(0)
