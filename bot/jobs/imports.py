"""Confirmed imports, applied in the background: a chunk of decisions per transaction until none waits.

Run by the one scheduler, so one process at a time holds the run (its lease) and a process that dies
mid-list leaves it to the next, which finishes it: each chunk is its own unit of work and removes the
people it decided (``bot.services.administration.import_apply``). A run stops after ``RUN_BUDGET``
so that the other jobs of this process (reminders every minute) are not held up by a long list; the
next tick goes on where it stopped.
"""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from bot.scheduler import JobContext
from bot.services.administration.import_apply import apply_next_chunk

IMPORT_TICK = timedelta(seconds=20)  # how soon after Confirm the first decisions are made, at most
RUN_BUDGET = timedelta(seconds=45)
SQLITE_PAUSE_SECONDS = 0.1


def pause_between_chunks(dialect: str) -> float:
    """SQLite runs on the event loop's own thread (storage.sqlite_inloop), so a chunk holds the whole
    loop, not only the writer gate; a chunk taken at once after the last would let an update in
    progress take one step per chunk. A tenth of a second between chunks lets the updates waiting
    run to their end (a declaration takes milliseconds). PostgreSQL yields at every statement."""
    return SQLITE_PAUSE_SECONDS if dialect == "sqlite" else 0.0


async def run(context: JobContext) -> dict[str, int]:
    services = context.services
    decided = finished = chunks = 0
    deadline = time.monotonic() + RUN_BUDGET.total_seconds()  # a duration, not the time of day
    pause = pause_between_chunks(services.database.dialect)
    while time.monotonic() < deadline:
        chunk = await apply_next_chunk(services, services.clock.now())
        if chunk is None:
            break
        chunks += 1
        decided += chunk.decided
        finished += chunk.finished
        await asyncio.sleep(pause)
    return {"chunks": chunks, "decided": decided, "imports_finished": finished}
