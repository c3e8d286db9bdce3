"""Broadcast load: N recipients at the configured rate, SIGKILL half way, restart, count every delivery.

    python -m bench.broadcast --recipients 100000 --rate 1000            # SQLite in a temp dir
    python -m bench.broadcast --recipients 100000 --rate 1000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_broadcast   # an empty database
    python -m bench.broadcast --recipients 10000 --rate 25 --kill-at 0   # the default rate, no kill

How it is set up, so that the numbers mean what they say:

* **Telegram** is a small HTTP server in this (parent) process that answers sendMessage,
  editMessageText and getMe like the Bot API. It counts, per chat, every sendMessage it accepted —
  the ground truth for "delivered". It answers 403 for every ``--block-every``-th recipient and 429
  (retry after 1 s) at two points of the run.
* **The bot** is a child process running the production path: ``DeliveryWorker`` with
  ``TelegramSender`` over a real ptb ``Bot`` talking HTTP to that server, at ``--rate`` msgs/s.
* At ``--kill-at`` of the recipients accepted, the parent sends the child **SIGKILL** (no clean-up
  runs) and starts a new child, which resumes from the database. Leases of the killed worker run
  out after ``--lease`` seconds; what was in flight becomes ``unconfirmed``.
* Then every recipient is checked: accepted exactly once (``sent``), never (``blocked``), or — only
  for the few in flight at the kill — ``unconfirmed`` with 0 or 1 acceptances. Duplicates must be 0.
* Rate: accepted requests per second while sending, from the server's clock, excluding the 429
  pauses and the restart gap. Memory: the children's peak RSS (ru_maxrss) and RSS samples.

Users are inserted as synthetic rows (random sealed blobs): a broadcast never decrypts them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

ADMIN_CHAT = 900_001
FIRST_ID = 10_000_000
TOKEN = "1:BENCH"
RETRY_AFTER = 1


# --- the fake Bot API (parent) -------------------------------------------------------------------


class FakeTelegram:
    def __init__(self, recipients: int, block_every: int, throttle_at: tuple[int, ...]) -> None:
        self.accepted: Counter[int] = Counter()
        self.accepted_total = 0
        self.accept_times: list[float] = []
        self.pauses: list[float] = []
        self.requests = 0
        self.refused_403 = 0
        self.edits = 0
        self._message_ids = 0
        self._block_every = block_every
        self._throttle_at = set(throttle_at)
        self._recipients = recipients

    def blocked(self, chat_id: int) -> bool:
        return self._block_every > 0 and (chat_id - FIRST_ID) % self._block_every == self._block_every - 1

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        if method == "getMe":
            return _ok({"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot",
                        "can_join_groups": False, "can_read_all_group_messages": False,
                        "supports_inline_queries": False})
        chat_id = int(form.get("chat_id", "0"))
        if method == "editMessageText":
            self.edits += 1
            return _ok(self._message(chat_id, str(form.get("text", "")), int(form.get("message_id", "0"))))
        if method != "sendMessage":
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        if chat_id == ADMIN_CHAT:
            return _ok(self._message(chat_id, str(form.get("text", ""))))
        self.requests += 1
        if self.requests in self._throttle_at:
            self.pauses.append(time.monotonic())
            return web.json_response({"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {RETRY_AFTER}",
                                      "parameters": {"retry_after": RETRY_AFTER}}, status=429)
        if self.blocked(chat_id):
            self.refused_403 += 1
            return web.json_response({"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                                     status=403)
        self.accepted[chat_id] += 1  # delivered: from here on, a resend would be a duplicate
        self.accepted_total += 1
        self.accept_times.append(time.monotonic())
        return _ok(self._message(chat_id, str(form.get("text", ""))))

    def _message(self, chat_id: int, text: str, message_id: int | None = None) -> dict[str, Any]:
        if message_id is None:
            self._message_ids += 1
            message_id = self._message_ids
        return {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                "text": text}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


# --- the database (parent) -----------------------------------------------------------------------


async def prepare_database(url: str, key: bytes, recipients: int, rate: float) -> int:
    from storage.database import Database
    from storage.encryption import FieldCipher
    from storage.migrate import upgrade
    from storage.models import UserRow
    from bot.services.delivery import Audience, start_campaign
    from bot.services.administration.broadcasts import BROADCAST_CAMPAIGN, BroadcastPayload

    await upgrade(url)
    database = Database(url, FieldCipher(key))
    now = datetime.now(timezone.utc)
    try:
        # Record the data key first, as a real start does: the synthetic sealed values below open with no key.
        async with database.unit_of_work() as uow:
            await uow.key_check.verify(now)
        batch = 5000
        for start in range(0, recipients, batch):
            rows = [
                {"telegram_id": FIRST_ID + n, "subject_id": secrets.token_hex(8), "name_enc": b"\x01synthetic",
                 "resident_id_enc": b"\x01synthetic", "resident_id_hash": secrets.token_bytes(32),
                 "phone_enc": b"\x01synthetic", "phone_hash": secrets.token_bytes(32), "region_code": "330100",
                 "consent_version": "bench", "consented_at": now, "created_at": now, "active": True}
                for n in range(start, min(recipients, start + batch))
            ]
            async with database.unit_of_work() as uow:
                await uow._session.execute(UserRow.__table__.insert(), rows)
        async with database.unit_of_work() as uow:
            return await start_campaign(uow, kind=BROADCAST_CAMPAIGN, created_by=ADMIN_CHAT, now=now,
                                        payload=BroadcastPayload(text="Bench notice"),
                                        audience=Audience("everyone"), progress_chat_id=ADMIN_CHAT, rate=rate)
    finally:
        await database.dispose()


async def campaign_state(url: str, key: bytes, campaign_id: int) -> tuple[str, dict[int, str], dict[str, int]]:
    from storage.database import Database
    from storage.encryption import FieldCipher

    database = Database(url, FieldCipher(key))
    try:
        async with database.unit_of_work() as uow:
            progress = await uow.deliveries.progress(campaign_id)
            statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
        return progress.status, statuses, dict(progress.counts)
    finally:
        await database.dispose()


async def campaign_status(url: str, key: bytes, campaign_id: int) -> str:
    from storage.database import Database
    from storage.encryption import FieldCipher

    database = Database(url, FieldCipher(key))
    try:
        async with database.unit_of_work() as uow:
            return (await uow.deliveries.campaign(campaign_id)).status
    finally:
        await database.dispose()


# --- the bot (child) -----------------------------------------------------------------------------


async def child_main(args: argparse.Namespace) -> None:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.bootstrap import create_services
    from bot.clock import SystemClock
    from bot.services.delivery.worker import DeliveryWorker
    from bot.settings import load_settings
    from handlers.delivery_sender import TelegramSender
    import bot.services.administration  # noqa: F401 - registers the broadcast campaign kind

    state = Path(args.state_dir)
    settings = load_settings(_env_file=None, database_url=args.database_url, state_dir=state, keys_dir=state / "keys",
                             data_key_file=state / "data.key", broadcast_rate=args.rate, default_language="en")
    services = await create_services(settings, SystemClock(), local=True)
    bot = Bot(TOKEN, base_url=f"{args.api_url}/bot",
              request=HTTPXRequest(connection_pool_size=64, read_timeout=10, connect_timeout=5))
    worker = DeliveryWorker(services, TelegramSender(services, bot), lease=timedelta(seconds=args.lease),
                            concurrency=args.concurrency or None)
    await worker.start()
    report = {"event": "started", "pid": os.getpid(), "lanes": worker.concurrency}
    print(json.dumps(report), flush=True)
    try:
        while True:
            await asyncio.sleep(1.0)
            async with services.database.unit_of_work() as uow:
                status = (await uow.deliveries.campaign(args.campaign_id)).status
            print(json.dumps({"event": "memory", "rss_kb": _rss_kb(), "max_rss_kb": _max_rss_kb()}), flush=True)
            if status != "sending":
                break
    finally:
        await worker.stop()
        await bot.shutdown()
        await services.database.dispose()
    print(json.dumps({"event": "done", "max_rss_kb": _max_rss_kb()}), flush=True)


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- orchestration (parent) ----------------------------------------------------------------------


class Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.memory: list[int] = []
        self.max_rss_kb = 0
        self.started_at: float | None = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "started":
                self.started_at = time.monotonic()
            if "rss_kb" in event:
                self.memory.append(event["rss_kb"])
            self.max_rss_kb = max(self.max_rss_kb, event.get("max_rss_kb", 0))


async def spawn(args: argparse.Namespace, url: str, state: Path, api_url: str, campaign_id: int) -> Child:
    command = [sys.executable, "-m", "bench.broadcast", "--child", "--database-url", url, "--state-dir", str(state),
               "--api-url", api_url, "--rate", str(args.rate), "--lease", str(args.lease), "--campaign-id",
               str(campaign_id), "--concurrency", str(args.concurrency)]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   cwd=Path(__file__).resolve().parents[1])
    return Child(process)


def achieved_rate(times: list[float], pauses: list[float], gaps: list[tuple[float, float]]) -> float:
    """Accepted sends per second of sending time: the 429 pauses and the restart gap do not count."""
    if len(times) < 2:
        return 0.0
    excluded = [(p, p + RETRY_AFTER) for p in pauses] + gaps
    sending = times[-1] - times[0]
    for start, end in excluded:
        sending -= max(0.0, min(end, times[-1]) - max(start, times[0]))
    return (len(times) - 1) / sending if sending > 0 else 0.0


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.bootstrap import read_data_key, write_data_key

    # A killed child drops its connections mid-request; the server's complaints about that are noise.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)

    with tempfile.TemporaryDirectory(prefix="hc-bench-") as tmp:
        state = Path(tmp)
        url = args.database_url or f"sqlite+aiosqlite:///{state / 'bench.db'}"
        write_data_key(state / "data.key")
        key = read_data_key(state / "data.key")
        n = args.recipients
        fake = FakeTelegram(n, args.block_every, throttle_at=(max(1, n // 5), max(2, n * 7 // 10)))
        application = web.Application()
        application.router.add_post("/bot{token}/{method}", fake.handle)
        runner = web.AppRunner(application, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        api_url = f"http://127.0.0.1:{port}"
        setup_started = time.monotonic()
        campaign_id = await prepare_database(url, key, n, args.rate)
        setup_seconds = time.monotonic() - setup_started
        children: list[Child] = []
        gaps: list[tuple[float, float]] = []
        killed_at_count = None
        try:
            children.append(await spawn(args, url, state, api_url, campaign_id))
            if 0 < args.kill_at < 1:
                while fake.accepted_total < n * args.kill_at:
                    if children[0].process.returncode is not None:
                        raise RuntimeError("the first child exited before the kill point")
                    await asyncio.sleep(0.005)
                children[0].process.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                await children[0].process.wait()
                killed_at_count = fake.accepted_total
                children.append(await spawn(args, url, state, api_url, campaign_id))
                while children[1].started_at is None and children[1].process.returncode is None:
                    await asyncio.sleep(0.01)
                resumed = fake.accept_times[-1] if fake.accept_times else killed
                gaps.append((min(killed, resumed), children[1].started_at or killed))
            for child in children:
                await child.process.wait()
                await asyncio.sleep(0.1)
        finally:
            for child in children:
                if child.process.returncode is None:
                    child.process.kill()
            await runner.cleanup()
        status, statuses, counts = await campaign_state(url, key, campaign_id)
    return verdict(args, fake, statuses, counts, status, gaps, killed_at_count, children, setup_seconds)


def verdict(args, fake: FakeTelegram, statuses: dict[int, str], counts: dict[str, int], status: str, gaps,
            killed_at_count, children: list[Child], setup_seconds: float) -> dict[str, Any]:
    duplicates = sorted(chat for chat, times in fake.accepted.items() if times > 1)
    wrong = []
    unconfirmed_received = Counter()
    for chat, state in statuses.items():
        got = fake.accepted.get(chat, 0)
        if state == "sent" and got != 1 or state == "blocked" and (got != 0 or not fake.blocked(chat)):
            wrong.append((chat, state, got))
        elif state == "unconfirmed":
            unconfirmed_received[got] += 1
        elif state not in ("sent", "blocked", "unconfirmed"):
            wrong.append((chat, state, got))
    rate = achieved_rate(fake.accept_times, fake.pauses, gaps)
    return {
        "recipients": args.recipients,
        "configured_rate": args.rate,
        "achieved_rate": round(rate, 2),
        "rate_error_percent": round(100 * (rate - args.rate) / args.rate, 2),
        "campaign_status": status,
        "statuses": counts,
        "accepted_total": sum(fake.accepted.values()),
        "duplicates": len(duplicates),
        "inconsistent_rows": len(wrong),
        "unconfirmed_received": {str(k): v for k, v in sorted(unconfirmed_received.items())},
        "refused_403": fake.refused_403,
        "throttled_429": len(fake.pauses),
        "progress_edits": fake.edits,
        "killed_after_accepted": killed_at_count,
        "lanes": args.concurrency or None,
        "child_peak_rss_mb": [round(child.max_rss_kb / 1024, 1) for child in children],
        "child_rss_samples_mb": [[round(kb / 1024, 1) for kb in child.memory[:: max(1, len(child.memory) // 8)]]
                                 for child in children],
        "setup_seconds": round(setup_seconds, 1),
        "backend": (args.database_url or "sqlite").split(":", 1)[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=25.0, help="messages per second (HEALTHCODE_BROADCAST_RATE)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="SIGKILL the worker at this fraction (0: never)")
    parser.add_argument("--block-every", type=int, default=500, help="every N-th recipient has blocked the bot")
    parser.add_argument("--lease", type=float, default=5.0, help="seconds before a dead worker's claims expire")
    parser.add_argument("--concurrency", type=int, default=0, help="worker lanes (0: the worker's default)")
    parser.add_argument("--database-url", default=None, help="an empty (or disposable) database; default SQLite")
    parser.add_argument("--json", action="store_true", help="print only the JSON result")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--state-dir", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--campaign-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child_main(args))
        return
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>24}: {value}")
    ok = result["duplicates"] == 0 and result["inconsistent_rows"] == 0 and result["campaign_status"] == "done"
    print("exactly once: " + ("yes" if ok and not result["statuses"].get("unconfirmed") else
                              "no duplicates; see unconfirmed" if ok else "NO"))


if __name__ == "__main__":
    main()
