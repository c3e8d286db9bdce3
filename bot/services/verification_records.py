"""Our own records behind verification, kept per process so that a verification rarely reads the database.

- :class:`WithdrawnIndex`: our revocation list in memory, read incrementally (with a full read every
  30 s and whenever the clock moves back), so a live credential of ours is answered without a read;
- :class:`RecordBatches`: concurrent lookups of our records gathered into one ``WHERE cti IN (…)``;
- :class:`IssuerRecordCache`: a short-lived, bounded cache of those lookups, dropped when this process
  writes to a table a lookup reads.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.services.verification import OwnRecord, read_own_records

if TYPE_CHECKING:
    from storage.database import Database

# Tables whose changes can alter what a lookup of our own credential returns.
_WATCHED_TABLES = frozenset({"credentials", "users", "statuses", "withdrawn_credentials"})


class WithdrawnIndex:
    """Our own revocation list, in memory: the credentials we issued that are revoked, superseded
    or erased and have not expired.

    With it the JSON API answers for a live credential of ours — nearly every one a checkpoint
    scans — without a database read; only a withdrawn one is looked up, for its reason.

    Every ``refresh_seconds`` (and before the next verification after this process wrote to our
    records) it reads what was withdrawn since its last read, less ``OVERLAP``. Withdrawal times are
    the writers' clocks, and a writer may stamp a row well before committing it (the day-change job
    stamps a long run with its start time), so every ``full_read_seconds`` it also reads the whole
    list again: a withdrawal shows within a second as a rule and within ``full_read_seconds`` at
    worst. A clock that moved backwards (the shell's ``:today``) gets a full read at once. With
    more than ``max_entries`` withdrawn it stands aside (``contains`` answers None, and every
    lookup reads the database) and only counts again at each full-read time, so memory and the
    cost of reading stay bounded.
    """

    OVERLAP = timedelta(seconds=30)

    def __init__(self, refresh_seconds: float = 1.0, full_read_seconds: float = 30.0, max_entries: int = 1_000_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._refresh = refresh_seconds
        self._full_read = full_read_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._expiry: dict[str, datetime] = {}
        self._read_at: datetime | None = None  # the app clock at the last read
        self._due = 0.0  # monotonic time of the next read
        self._full_due = 0.0  # ... and of the next full read
        self._generation: int | None = None
        self._reading = asyncio.Lock()
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._expiry)

    async def contains(self, database: Database, cti: str, now: datetime, generation: int) -> bool | None:
        """Is ``cti`` withdrawn as of ``now``? None when the index is too large to keep."""
        if self._stale(now, generation):
            async with self._reading:
                if self._stale(now, generation):
                    await self._read(database, now, generation)
        if self.overflowed:
            return None
        expires = self._expiry.get(cti)
        return expires is not None and expires > now

    def _stale(self, now: datetime, generation: int) -> bool:
        return (self._read_at is None or now < self._read_at or generation != self._generation
                or self._monotonic() >= self._due)

    async def _read(self, database: Database, now: datetime, generation: int) -> None:
        read_at = self._read_at
        if read_at is None or now < read_at or self._monotonic() >= self._full_due:
            await self._read_all(database, now)
        elif not self.overflowed:
            async with database.unit_of_work() as uow:
                self._expiry.update(await uow.credentials.withdrawn_since(read_at - self.OVERLAP, now))
        self._read_at, self._generation = now, generation
        self._due = self._monotonic() + self._refresh

    async def _read_all(self, database: Database, now: datetime) -> None:
        async with database.unit_of_work() as uow:
            self.overflowed = await uow.credentials.count_withdrawn(now) > self._max
            withdrawn = [] if self.overflowed else await uow.credentials.withdrawn_since(None, now)
        self._expiry = dict(withdrawn)  # expired entries go with each full read
        self._full_due = self._monotonic() + self._full_read


class RecordBatches:
    """Lookups that arrive while one is being read share the next unit of work.

    One batch per database is in flight at a time; the lookups that come in meanwhile wait and go
    together in the next.  Idle, a lookup goes alone at once; under load this halves the database
    cost of each, and on SQLite, where every unit of work takes the one write lock, it also keeps
    checkpoints from queueing one by one ahead of the bot's own writes.
    """

    MAX_BATCH = 64  # bounds how long one unit of work holds SQLite's lock

    def __init__(self) -> None:
        self._pending: dict[int, list[tuple[str, bool, asyncio.Future[OwnRecord | None]]]] = {}
        self._draining: dict[int, asyncio.Task[None]] = {}

    async def load(self, database: Database, cti: str, *, with_name: bool) -> OwnRecord | None:
        future: asyncio.Future[OwnRecord | None] = asyncio.get_running_loop().create_future()
        key = id(database)
        self._pending.setdefault(key, []).append((cti, with_name, future))
        if key not in self._draining:
            self._draining[key] = asyncio.get_running_loop().create_task(self._drain(database, key))
        return await future

    async def _drain(self, database: Database, key: int) -> None:
        try:
            while self._pending.get(key):
                waiting = self._pending.pop(key)
                batch, rest = waiting[:self.MAX_BATCH], waiting[self.MAX_BATCH:]
                if rest:
                    self._pending[key] = rest + self._pending.get(key, [])
                await self._read(database, batch)
        finally:
            del self._draining[key]

    @staticmethod
    async def _read(database: Database, batch: list[tuple[str, bool, asyncio.Future[OwnRecord | None]]]) -> None:
        try:
            async with database.unit_of_work() as uow:
                found: dict[bool, dict[str, OwnRecord]] = {}
                for with_name in (False, True):
                    ctis = {cti for cti, named, _ in batch if named is with_name}
                    found[with_name] = await read_own_records(uow, ctis, with_name=with_name) if ctis else {}
            for cti, with_name, future in batch:
                if not future.done():  # its request may have gone away meanwhile
                    future.set_result(found[with_name].get(cti))
        except Exception as error:  # noqa: BLE001 - every waiter learns there is no verdict
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(error)


class IssuerRecordCache:
    """A short-lived, bounded cache of :class:`OwnRecord` lookups.

    Checkpoints verify far more often than statuses change, and on SQLite every unit of work
    takes the single writer lock, so each lookup is kept for ``ttl_seconds``.  Any write to the
    tables a lookup reads, in this process, empties the cache at once (see :meth:`watch`); a write
    by another process is seen within ``ttl_seconds``.  Concurrent lookups of one credential
    share one database read.
    """

    def __init__(self, ttl_seconds: float = 2.0, max_entries: int = 50_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, OwnRecord | None]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[OwnRecord | None]] = {}
        self._generation = 0
        self.batches = RecordBatches()
        self.withdrawn = WithdrawnIndex(monotonic=monotonic)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def generation(self) -> int:
        """Goes up whenever this process writes to a watched table: other caches can key on it."""
        return self._generation

    def invalidate(self) -> None:
        self._entries.clear()
        self._generation += 1

    def watch(self, database: Database) -> None:
        """Empty the cache whenever this process writes to, or commits writes to, a watched table."""
        database.on_writes(_WATCHED_TABLES, self.invalidate)

    async def lookup(self, cti: str, load: Callable[[], Awaitable[OwnRecord | None]]) -> OwnRecord | None:
        now = self._monotonic()
        entry = self._entries.get(cti)
        if entry is not None and entry[0] > now:
            return entry[1]
        pending = self._inflight.get(cti)
        if pending is not None:
            return await asyncio.shield(pending)
        generation = self._generation
        future: asyncio.Future[OwnRecord | None] = asyncio.get_running_loop().create_future()
        self._inflight[cti] = future
        try:
            record = await load()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            self._inflight.pop(cti, None)
        future.set_result(record)
        if self._ttl > 0 and generation == self._generation:
            self._entries[cti] = (self._monotonic() + self._ttl, record)
            self._entries.move_to_end(cti)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return record
