"""HEALTHCODE_WEB_WORKERS: several real processes serve the web side on one port.

`healthcode web` runs as a subprocess, exactly as deployed; the test finds who listens on the
port from /proc, asks the server over HTTP, and kills processes the way a crash would.
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

from bot.bootstrap import write_data_key
from bot.credentials.keyring import KeyRing
from tests.bot.processes import alive, free_port, listeners, until

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to see listeners")


def _env(tmp_path: Path, port: int, workers: int) -> dict[str, str]:
    if not (tmp_path / "data.key").exists():
        write_data_key(tmp_path / "data.key")
        KeyRing.generate(tmp_path / "keys", datetime.now(timezone.utc))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({
        "HEALTHCODE_DATA_KEY_FILE": str(tmp_path / "data.key"),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'web.db'}",
        "HEALTHCODE_WEB_PORT": str(port),
        "HEALTHCODE_WEB_WORKERS": str(workers),
    })
    return env


async def _start(tmp_path: Path, port: int, workers: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "web", cwd=tmp_path, env=_env(tmp_path, port, workers),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def test_workers_share_the_port_answer_and_stop_with_the_parent(tmp_path: Path) -> None:
    port = free_port()
    parent = await _start(tmp_path, port, workers=3)
    try:
        await until(lambda: len(listeners(port)) == 3)
        serving = listeners(port)
        assert parent.pid in serving
        async with aiohttp.ClientSession() as session:
            for _ in range(6):  # new connections: the kernel spreads them over the listeners
                async with session.get(f"http://127.0.0.1:{port}/healthz",
                                       headers={"Connection": "close"}) as response:
                    assert response.status == 200
                    assert (await response.json())["database"] == "ok"
    finally:
        parent.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(parent.communicate(), 30)
    assert parent.returncode == 0, output.decode()[-2000:]
    await until(lambda: not any(alive(pid) for pid in serving - {parent.pid}), seconds=15)
    assert "Traceback" not in output.decode()


async def test_a_dead_worker_is_replaced_and_workers_end_when_the_parent_is_killed(tmp_path: Path) -> None:
    port = free_port()
    parent = await _start(tmp_path, port, workers=2)
    try:
        await until(lambda: len(listeners(port)) == 2)
        [worker] = listeners(port) - {parent.pid}
        os.kill(worker, signal.SIGKILL)
        await until(lambda: len(listeners(port) - {parent.pid, worker}) == 1)  # a new one took its place
        [replacement] = listeners(port) - {parent.pid}
        parent.kill()  # no clean-up runs in the parent: the worker must notice on its own
        await parent.wait()
        await until(lambda: not alive(replacement), seconds=15)
    finally:
        if parent.returncode is None:
            parent.kill()
            await parent.wait()


async def test_one_worker_keeps_the_port_exclusive(tmp_path: Path) -> None:
    """Without HEALTHCODE_WEB_WORKERS a second server must find the port taken, not split the traffic."""
    port = free_port()
    first = await _start(tmp_path, port, workers=1)
    try:
        await until(lambda: len(listeners(port)) == 1)
        second = await _start(tmp_path, port, workers=1)
        output, _ = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 2
        assert "HEALTHCODE_WEB_PORT" in output.decode() and "already in use" in output.decode()
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 30)


def _samples(exposition: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {tuple(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(exposition)
            for sample in family.samples if sample.name == name}


async def test_one_metrics_scrape_counts_the_requests_of_every_worker(tmp_path: Path) -> None:
    """prometheus_client's multiprocess mode: whichever process answers /metrics reports the sum."""
    port = free_port()
    parent = await _start(tmp_path, port, workers=2)
    requests = 20
    try:
        await until(lambda: len(listeners(port)) == 2)
        async with aiohttp.ClientSession() as session:
            for _ in range(requests):  # a new connection each: the kernel spreads them over both processes
                async with session.get(f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"}) as response:
                    assert response.status == 200
            for _ in range(6):  # every scrape, whoever serves it, sees all twenty
                async with session.get(f"http://127.0.0.1:{port}/metrics", headers={"Connection": "close"}) as response:
                    assert response.status == 200
                    counts = _samples(await response.text(), "healthcode_http_requests_total")
                    assert counts[(("route", "/healthz"), ("status", "200"))] == requests
    finally:
        parent.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(parent.communicate(), 30)
    assert parent.returncode == 0, output.decode()[-2000:]
