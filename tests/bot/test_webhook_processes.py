"""Webhook mode on HEALTHCODE_WEB_WORKERS real processes, as deployed.

`healthcode run` runs as a subprocess against a Bot API stand-in of its own process
(tests/bot/fake_telegram_server.py), on a fresh PostgreSQL database. Updates are POSTed over HTTP
on new connections, so the kernel spreads them over the processes sharing the port; each process's
own counters (the metrics directory holds one file per process) show who handled what.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from bot.bootstrap import write_data_key
from bot.credentials.keyring import KeyRing
from bot.runners.webhook import SECRET_HEADER
from tests.bot.fake_telegram import busiest_second
from tests.bot.processes import alive, free_port, listeners, until

FAKE_TELEGRAM = Path(__file__).with_name("fake_telegram_server.py")
SECRET = "shared-secret_0123456789"
RATE = 12  # the bot's Telegram rate, for both processes together
pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to see listeners")


def _env(tmp_path: Path, database_url: str, api_port: int, port: int, workers: int) -> dict[str, str]:
    write_data_key(tmp_path / "data.key")
    KeyRing.generate(tmp_path / "keys", datetime.now(timezone.utc))
    (tmp_path / "metrics").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({
        "HEALTHCODE_TELEGRAM_TOKEN": "1:PROCESSES",
        "HEALTHCODE_TELEGRAM_API_URL": f"http://127.0.0.1:{api_port}/bot",
        "HEALTHCODE_WEBHOOK_URL": "https://hc.example.cn",
        "HEALTHCODE_WEBHOOK_SECRET": SECRET,
        "HEALTHCODE_DATA_KEY_FILE": str(tmp_path / "data.key"),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_STATE_DIR": str(tmp_path / "state"),
        "HEALTHCODE_DATABASE_URL": database_url,
        "HEALTHCODE_DATABASE_POOL_SIZE": "5",
        "HEALTHCODE_WEB_PORT": str(port),
        "HEALTHCODE_WEB_WORKERS": str(workers),
        "HEALTHCODE_TELEGRAM_RATE": str(RATE),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    })
    return env


def _start_update(update_id: int, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Wei", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(datetime.now(timezone.utc).timestamp()), "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Wei"}, "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}


def _processed_per_process(metrics: Path) -> dict[str, float]:
    """Webhook updates each process handled, read from that process's own counter file."""
    handled = {}
    for path in metrics.glob("counter_*.db"):
        values = MultiProcessCollector._read_metrics([str(path)])  # noqa: SLF001 - per file, on purpose
        for metric in values.values():
            for sample in metric.samples:
                if sample.name == "healthcode_webhook_deliveries_total" and dict(sample.labels).get("result") == "processed":
                    handled[path.stem] = handled.get(path.stem, 0) + sample.value
    return handled


async def _post(session: aiohttp.ClientSession, port: int, body: dict, secret: str = SECRET) -> tuple[int, str]:
    async with session.post(f"http://127.0.0.1:{port}/telegram/webhook", json=body,
                            headers={SECRET_HEADER: secret, "Connection": "close"}) as response:
        return response.status, await response.text()


async def test_two_processes_share_the_port_the_secret_and_one_registration(
        tmp_path: Path, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several webhook processes need PostgreSQL (refused on SQLite: see the next test)")
    fake = await asyncio.create_subprocess_exec(sys.executable, str(FAKE_TELEGRAM), "--throttle-every", "1000000",
                                                stdout=asyncio.subprocess.PIPE)
    assert fake.stdout is not None
    api_port = int((await fake.stdout.readline()).decode())
    port = free_port()
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=_env(tmp_path, database_url, api_port, port, 2),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await until(lambda: len(listeners(port)) == 2, seconds=60)
        serving = listeners(port)
        users = range(700001, 700031)
        async with aiohttp.ClientSession() as session:
            results = await asyncio.gather(*(_post(session, port, _start_update(n, user))
                                             for n, user in enumerate(users, start=1)))
            assert results == [(200, "ok")] * len(users)
            # Every delivery again, each to whichever process the kernel picks: none runs twice.
            again = await asyncio.gather(*(_post(session, port, _start_update(n, user))
                                           for n, user in enumerate(users, start=1)))
            assert again == [(200, "ok: already processed")] * len(users)
            # The shared secret is the only one either process accepts.
            refused = await asyncio.gather(*(_post(session, port, _start_update(99, 700001), secret="x" * 24)
                                             for _ in range(6)))
            assert {status for status, _ in refused} == {403}
            async with session.get(f"http://127.0.0.1:{api_port}/records") as response:
                arrivals = (await response.json())["arrivals"]
        assert [a["method"] for a in arrivals].count("setWebhook") == 1  # registered once, by the first process
        sends = [a["chat_id"] for a in arrivals if a["method"] == "sendMessage"]
        assert sorted(sends) == list(users)  # one answer per person, from one process or the other
        handled = _processed_per_process(tmp_path / "metrics")
        assert sum(handled.values()) == len(users)
        assert len([count for count in handled.values() if count]) == 2, handled  # both processes served
        # The two processes together stayed within the bot's one rate (bot/rate_share.py).
        assert busiest_second([a["at"] for a in arrivals]) <= RATE
    finally:
        bot.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(bot.communicate(), 60)
        fake.kill()
        await fake.wait()
    text = output.decode()
    assert bot.returncode == 0 and "Traceback" not in text, text[-3000:]
    await until(lambda: not any(alive(pid) for pid in serving - {bot.pid}), seconds=15)


async def test_several_webhook_processes_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'hc.db'}", free_port(), free_port(), 2)
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                               stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(bot.communicate(), 60)
    text = output.decode()
    assert bot.returncode != 0 and "Traceback" not in text
    assert "HEALTHCODE_WEB_WORKERS=2 in webhook mode needs PostgreSQL" in text
    assert not (tmp_path / "hc.db").exists()  # refused before anything was created

