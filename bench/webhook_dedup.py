"""What webhook de-duplication adds to an update: the webhook path against ptb's process_update alone.

    python -m bench.webhook_dedup [--updates 1000] [--database-url postgresql+asyncpg://...]

Each update is a /help message from a registered-or-not user (one unit of work, one sendMessage to
the in-process Bot API). Timed, one after another, in CPU milliseconds of this process per update:
- direct: ``Application.process_update`` (no de-duplication at all);
- webhook: a real HTTP POST to /telegram/webhook on the bot's own web server (aiohttp client in the
  same process), which de-duplicates the update_id, processes it and answers 200.
The difference is HTTP plus de-duplication; ``--http-only`` subtracts an HTTP POST of the same size to
a route that does nothing, leaving de-duplication itself.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from aiohttp import web
from telegram import Update

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.runners.webhook import SECRET_HEADER, WebhookService
from bot.settings import load_settings

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def _update(update_id: int, user_id: int) -> dict:
    sender = {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(START.timestamp()), "from": sender, "text": "/help",
        "chat": {"id": user_id, "type": "private"}, "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}


async def _run(updates: int, url: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        settings = load_settings(_env_file=None, database_url=url or f"sqlite+aiosqlite:///{directory / 'b.db'}",
                                 state_dir=directory / "state", keys_dir=directory / "keys",
                                 public_url="https://hc.example.cn", webhook_url="https://hc.example.cn",
                                 log_level="WARNING")
        clock = ManualClock(START)
        services = await create_services(settings, clock, local=True)
        api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
        api.record_calls = False
        application = build_application(services, request=api)
        service = WebhookService(services, application, host="127.0.0.1", port=0)
        await service.start()
        noop = web.Application()

        async def nothing(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(text="ok")

        noop.router.add_post("/noop", nothing)
        runner = web.AppRunner(noop, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        noop_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/noop"
        base = 7_000_000 + int(time.time()) % 100_000 * 10
        results: dict[str, float] = {}
        async with aiohttp.ClientSession() as http:
            headers = {SECRET_HEADER: service.secret, "Content-Type": "application/json"}
            endpoint = service.server.url + "/telegram/webhook"

            async def webhook(n: int) -> None:
                async with http.post(endpoint, data=json.dumps(_update(base + n, base + n % 50)),
                                     headers=headers) as response:
                    assert response.status == 200, await response.text()

            async def direct(n: int) -> None:
                await application.process_update(Update.de_json(_update(base + n, base + n % 50), application.bot))

            async def http_only(n: int) -> None:
                async with http.post(noop_url, data=json.dumps(_update(base + n, base + n % 50)),
                                     headers=headers) as response:
                    await response.read()

            for name, step, offset in (("direct", direct, 0), ("webhook", webhook, updates + 100),
                                       ("http only", http_only, 0)):
                for n in range(50):  # warm
                    await step(offset + 10 * updates + n)
                started = time.process_time()
                for n in range(updates):
                    await step(offset + n)
                results[name] = (time.process_time() - started) / updates * 1000
        await runner.cleanup()
        await service.stop()
        await services.database.dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    results = asyncio.run(_run(args.updates, args.database_url))
    dedup = results["webhook"] - results["http only"] - results["direct"]
    backend = (args.database_url or "sqlite").split(":", 1)[0]
    print(f"{backend}: direct {results['direct']:.2f} ms, webhook {results['webhook']:.2f} ms, "
          f"HTTP alone {results['http only']:.2f} ms per update (CPU); de-duplication "
          f"{dedup:+.2f} ms = {dedup / results['direct'] * 100:+.0f} % of the direct update")


if __name__ == "__main__":
    main()
