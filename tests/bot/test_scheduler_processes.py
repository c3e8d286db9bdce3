"""Two real OS processes run the scheduler against one database: each due occurrence runs once.

Each process polls as fast as it can for a few seconds, on the real clock, with eight jobs due
every second. Every job run inserts a row into ``job_effects`` (a table without any uniqueness,
so a duplicate run would show as a duplicate row). Both processes must have run jobs, and no
(job, due time) may appear twice.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool

from storage.database import create_engine

REPO = Path(__file__).resolve().parents[2]
JOBS, SECONDS = 8, 4.0

WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from dataclasses import dataclass
    from datetime import timedelta
    from zoneinfo import ZoneInfo
    from sqlalchemy import text
    from bot.clock import SystemClock
    from bot.scheduler import Every, Job, Scheduler
    from storage.database import Database
    from storage.encryption import FieldCipher

    @dataclass
    class JobServices:
        clock: SystemClock
        database: Database
        tz: ZoneInfo = ZoneInfo("Asia/Shanghai")

    async def main(url, owner, jobs, seconds, go_file):
        database = Database(url, FieldCipher(bytes(32)))
        ran = 0

        async def effect(context):
            nonlocal ran
            ran += 1
            async with database.engine.begin() as connection:
                await connection.execute(
                    text("INSERT INTO job_effects (job_name, due_at, owner) VALUES (:j, :d, :o)"),
                    {"j": context.name, "d": context.due_at.isoformat(), "o": owner})
            await asyncio.sleep(0.003)  # a job takes a moment: the other process gets to try meanwhile

        services = JobServices(SystemClock(), database)
        scheduler = Scheduler(services, [Job(f"job{i}", Every(timedelta(seconds=1)), effect) for i in range(jobs)],
                              owner=owner)
        while not __import__("os").path.exists(go_file):
            await asyncio.sleep(0.005)
        await scheduler.sync()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await scheduler.run_due()
            await asyncio.sleep(0.002)
        await database.dispose()
        print(json.dumps({"owner": owner, "ran": ran}))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]))
    """
)


async def _execute(url: str, statement: str) -> list:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(statement))
            return result.all() if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_two_processes_run_each_due_job_exactly_once(database_url: str, tmp_path: Path) -> None:
    await _execute(database_url, "CREATE TABLE job_effects (job_name VARCHAR(64), due_at VARCHAR(64), owner VARCHAR(64))")
    go = tmp_path / "go"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, database_url, f"process-{n}", str(JOBS), str(SECONDS), str(go),
            cwd=REPO, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for n in (1, 2)
    ]
    await asyncio.sleep(1.5)  # both interpreters up and waiting: then they start together
    go.touch()
    reports = []
    for process in processes:
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, err.decode()[-2000:]
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))

    effects = await _execute(database_url, "SELECT job_name, due_at, owner FROM job_effects")
    runs = await _execute(database_url, "SELECT job_name, owner, state FROM job_runs")
    occurrences = [(job, due) for job, due, _ in effects]
    assert len(occurrences) == len(set(occurrences)), "an occurrence ran twice"
    assert len(effects) == len(runs) == sum(r["ran"] for r in reports)
    assert all(state == "done" for _, _, state in runs)
    per_job = {job: sum(1 for j, _ in occurrences if j == job) for job in {j for j, _ in occurrences}}
    assert len(per_job) == JOBS and all(SECONDS - 2 <= n <= SECONDS + 2 for n in per_job.values()), per_job
    owners = {owner for _, _, owner in effects}
    assert owners == {"process-1", "process-2"}, f"both processes must take part: {reports}"
