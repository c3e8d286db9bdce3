"""Catch-up after downtime with the real `healthcode run` process: jobs missed while the bot was down
run once when it starts again, and not again at the next start."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from bot.bootstrap import read_data_key, write_data_key
from bot.credentials.keyring import KeyRing
from rules.evaluate import evaluate
from rules.model import Answers, Declaration, Diagnosis, TravelRisk
from bot.policy_file import load_default_policy
from storage.database import Database
from storage.encryption import FieldCipher
from storage.migrate import upgrade
from storage.records import NewUser

TOKEN = "123456:CATCHUP"


class QuietBotApi:
    """Just enough Bot API for `healthcode run` to start and poll an empty queue."""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "getMe":
            return _ok({"id": 42, "is_bot": True, "first_name": "HC", "username": "hc_bot"})
        if method == "getUpdates":
            await asyncio.sleep(0.2)
            return _ok([])
        return _ok(True)


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


async def _prepare(tmp_path: Path, url: str) -> int:
    """A database as a bot left it three days ago: schedules overdue, one citizen with a code."""
    write_data_key(tmp_path / "data.key")
    KeyRing.generate(tmp_path / "keys", datetime.now(timezone.utc))
    await upgrade(url)
    now = datetime.now(timezone.utc)
    three_days_ago = now - timedelta(days=3)
    database = Database(url, FieldCipher(read_data_key(tmp_path / "data.key")))
    try:
        async with database.unit_of_work() as uow:
            user = await uow.users.add(NewUser(5001, "测试", "11010519491231002X", "13800138000", "330100", "v",
                                               three_days_ago), three_days_ago)
            day = (now - timedelta(days=3)).astimezone(timezone(timedelta(hours=8))).date()
            answers = Answers(Decimal("36.5"), frozenset(), False, TravelRisk.NONE, Diagnosis.NONE)
            await uow.declarations.upsert(user.id, day, answers, three_days_ago)
            await uow.statuses.put(user.id, evaluate(load_default_policy(), [Declaration(day, answers)], day),
                                   three_days_ago)
            for name, spec in (("day_change", "daily 00:00"), ("retention", "daily 03:30")):
                await uow.schedules.ensure(name, spec, three_days_ago, three_days_ago)
    finally:
        await database.dispose()
    return user.id


async def _start_bot(tmp_path: Path, port: int) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHCODE_")}
    env.update({
        "HEALTHCODE_TELEGRAM_TOKEN": TOKEN,
        "HEALTHCODE_TELEGRAM_API_URL": f"http://127.0.0.1:{port}/bot",
        "HEALTHCODE_DATA_KEY_FILE": str(tmp_path / "data.key"),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "HEALTHCODE_WEB_PORT": "0",
        "HEALTHCODE_LOG_LEVEL": "INFO",
    })
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def _until_polling(process: asyncio.subprocess.Process) -> str:
    """The log up to the moment the bot polls: only then does it treat SIGINT as "stop cleanly"
    (start-up alone, imports included, can take over 3 s on a busy machine)."""
    lines: list[str] = []
    while not lines or "Application started" not in lines[-1]:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert line, "the bot ended before it started polling:\n" + "".join(lines)[-2000:]
        lines.append(line.decode())
    return "".join(lines)


async def _runs(url: str) -> dict[str, list[tuple[str, str]]]:
    database = Database(url, FieldCipher(bytes(32)))
    try:
        async with database.unit_of_work() as uow:
            runs = await uow.schedules.runs()
    finally:
        await database.dispose()
    found: dict[str, list[tuple[str, str]]] = {}
    for run in runs:
        found.setdefault(run.job_name, []).append((run.due_at.isoformat(), run.state))
    return found


async def _stop(process: asyncio.subprocess.Process, started: str) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    log = started + output.decode()
    assert process.returncode == 0, log[-2000:]
    return log


async def test_missed_jobs_run_once_when_the_bot_starts_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    user_id = await _prepare(tmp_path, url)
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", QuietBotApi().handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        process = await _start_bot(tmp_path, port)
        started = await _until_polling(process)
        deadline = time.monotonic() + 30
        while not {"day_change", "retention"} <= {k for k, v in (await _runs(url)).items() if v[0][1] == "done"}:
            assert time.monotonic() < deadline, "the missed jobs did not run after start-up"
            await asyncio.sleep(0.2)
        log = await _stop(process, started)
        first = await _runs(url)
        assert len(first["day_change"]) == 1 and len(first["retention"]) == 1
        assert "job day_change" in log and "Traceback" not in log

        # The citizen's code was re-evaluated for today by the catch-up day change.
        database = Database(url, FieldCipher(read_data_key(tmp_path / "data.key")))
        try:
            async with database.unit_of_work() as uow:
                status = await uow.statuses.get(user_id)
        finally:
            await database.dispose()
        assert status.evaluated_for == datetime.now(timezone(timedelta(hours=8))).date()

        # Started again: nothing is due any more, so nothing runs twice.
        process = await _start_bot(tmp_path, port)
        await _stop(process, await _until_polling(process))
        second = await _runs(url)
        assert second["day_change"] == first["day_change"] and second["retention"] == first["retention"]
    finally:
        await runner.cleanup()
