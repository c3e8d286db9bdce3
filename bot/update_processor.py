"""Updates from one user run in order; different users run concurrently.

Inside one process a per-user asyncio lock orders them. Across processes the
unit of work takes a PostgreSQL advisory lock on the user (storage's
``lock_user``), so two bot processes never interleave one person's steps.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor


# ptb takes its concurrency slot before do_process_update runs, so updates queued behind one
# user's lock would hold slots and starve everyone else. ptb's own limit is therefore set out of
# reach, and the real limit is taken only by an update that holds its user's lock.
_UNBOUNDED = 1 << 30


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(_UNBOUNDED)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        key = _user_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle users so the table does not grow without bound
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _user_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None
