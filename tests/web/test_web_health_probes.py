"""Health probes never take the write lock and never hold up the event loop (issue 9, item 1).

On SQLite the statements run on the event loop's own thread, so a probe that waited in SQLite's
busy handler froze everything else: verification, the bot, other probes.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import time
from pathlib import Path

from bot.local.chat import LocalUser
from tests.web.conftest import Site, card_token

PROBES = 64
# Verification answers in about a millisecond; a probe stuck on a lock costs busy_timeout (5 s).
# The margin is for a machine shared with other test runs (load 8 on 2 cores stalls a loop for ~0.5 s).
ALLOWED_SLOWDOWN = 1.0

# A second process sharing the database, writing the way the bot does (one unit of work per update).
_WRITER = textwrap.dedent("""
    import asyncio, json, sys, time
    from datetime import datetime, timezone
    from storage.database import Database
    from storage.encryption import FieldCipher

    async def main(url, seconds):
        database = Database(url, FieldCipher(bytes(32)))
        writes, errors, slowest = 0, [], 0.0
        print("ready", flush=True)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    async with database.unit_of_work() as uow:
                        await uow.preferences.set_language(777_000 + writes % 50, "en", datetime.now(timezone.utc))
                    writes += 1
                except Exception as error:
                    errors.append(type(error).__name__)
                slowest = max(slowest, time.monotonic() - started)
                await asyncio.sleep(0.002)
        finally:
            await database.dispose()
        print(json.dumps({"writes": writes, "errors": errors, "slowest": slowest}), flush=True)

    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
""")


async def _verify_seconds(site: Site, token: str) -> float:
    started = time.perf_counter()
    status, body = await site.get_json(f"/api/v1/verify?c={token}")
    elapsed = time.perf_counter() - started
    assert status == 200 and body["valid"] is True
    return elapsed


async def _loop_stalls(stop: asyncio.Event) -> float:
    """The longest the loop went without running this task, while it ran."""
    worst, last = 0.0, time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        worst, last = max(worst, now - last), now
    return worst


async def _probe_waves(site: Site, token: str, baseline: float) -> float:
    """Three waves of 64 probes, each with a verification in the middle; the worst loop stall."""
    stop = asyncio.Event()
    stalls = asyncio.create_task(_loop_stalls(stop))
    try:
        for _ in range(3):
            probes = [asyncio.create_task(site.get_json("/healthz")) for _ in range(PROBES)]
            await asyncio.sleep(0)
            during = await _verify_seconds(site, token)
            answers = await asyncio.gather(*probes)
            assert [status for status, _ in answers] == [200] * PROBES
            assert {body["database"] for _, body in answers} == {"ok"}
            assert during < baseline + ALLOWED_SLOWDOWN, f"verification took {during:.2f} s during {PROBES} probes"
    finally:
        stop.set()
        worst = await stalls
    return worst


async def test_64_concurrent_probes_leave_verification_and_a_sharing_writer_alone(
        site: Site, citizen: LocalUser, database_url: str) -> None:
    token = await card_token(site.harness, citizen)
    baseline = min([await _verify_seconds(site, token) for _ in range(5)])

    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, database_url, "3",
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert (await asyncio.wait_for(writer.stdout.readline(), 30)).strip() == b"ready"

    try:
        worst_stall = await _probe_waves(site, token, baseline)
        out, _ = await asyncio.wait_for(writer.communicate(), 30)
    finally:
        if writer.returncode is None:
            writer.kill()
            await writer.wait()
    report = json.loads(out.decode().strip().splitlines()[-1])

    assert worst_stall < ALLOWED_SLOWDOWN, f"the event loop stalled for {worst_stall:.2f} s"
    assert report["errors"] == [] and report["writes"] > 0, report
    assert report["slowest"] < 2 * ALLOWED_SLOWDOWN, report  # nobody held the write lock for long
