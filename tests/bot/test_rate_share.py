"""bot.rate_share: the processes' shares of one Telegram rate, through a real PostgreSQL.

Each RateShare has its own Database (its own engine and pool), as a separate process would. The
sum is checked the way the proof states it: a request may arrive at Telegram anywhere between
leaving and its answer, so no second may hold more than the rate of requests whose [left, answered]
touches it.
"""
from __future__ import annotations

import asyncio
import os
import random
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest

from bot.clock import monotonic_seconds
from bot.rate_limit import OutgoingLimiter
from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.rate_share import RateShare, allot, fair_share, rate_share_for
from storage.database import Database
from storage.encryption import FieldCipher
from storage.records import SenderShare, SenderShareView
from tests.bot.fake_telegram import busiest_second, fake_telegram
from tests.handlers.conftest import START, make_settings

PG = bool(os.environ.get("TEST_DATABASE_URL"))
RATE = 30
BACKENDS = ["sqlite"] + (["postgresql"] if PG else [])
FAST = {"renew_every": 0.2, "grant_seconds": 0.5, "forget_after": 2.0}
postgresql_only = [pytest.mark.parametrize("backend", ["postgresql"]),
                   pytest.mark.skipif(not PG, reason="shares are renewed through PostgreSQL (TEST_DATABASE_URL)")]


@pytest.fixture
async def processes(database_url: str) -> AsyncIterator[Callable[..., RateShare]]:
    """make(**options): a RateShare on a Database of its own, with a limiter of its own."""
    made: list[RateShare] = []
    databases: list[Database] = []

    def make(rate: int = RATE, **options: float) -> RateShare:
        database = Database(database_url, FieldCipher(secrets.token_bytes(32)))
        databases.append(database)
        wire = OutgoingLimiter(bulk_rate=10, total=rate)
        share = RateShare(database, wire, rate, process_id=f"p{len(made)}", **options)
        if share.active:
            wire.set_total(0)  # as start() does, for the tests that renew by hand
        made.append(share)
        return share

    yield make
    for share in made:
        await share.stop()
    for database in databases:
        await database.dispose()


def limiter(share: RateShare) -> OutgoingLimiter:
    assert share._limiter is not None
    return share._limiter


async def rounds(shares: list[RateShare], count: int) -> list[int]:
    for _ in range(count):
        for share in shares:
            assert await share.renew()
    return [limiter(share).total_now() or 0 for share in shares]


def test_fair_parts_add_up_to_the_rate() -> None:
    ids = [f"p{i}" for i in range(7)]
    assert sum(fair_share(30, me, ids) for me in ids) == 30
    assert [fair_share(30, me, ids) for me in ids] == [5, 5, 4, 4, 4, 4, 4]
    assert sum(fair_share(3, me, ids) for me in ids) == 3  # more processes than the rate: some get 0


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_on_sqlite_nothing_runs_and_the_whole_rate_stays(processes) -> None:
    share = processes()
    await share.start()
    assert not share.active and share._task is None
    assert limiter(share).total_now() == RATE


def _pg(test):
    for mark in postgresql_only:
        test = mark(test)
    return test


@_pg
@pytest.mark.parametrize("count", [2, 3])
async def test_two_and_three_processes_converge_to_equal_shares(processes, count: int) -> None:
    shares = [processes() for _ in range(count)]
    assert await rounds(shares, 1) == [RATE] + [0] * (count - 1)  # the first holds it all, at first
    assert await rounds(shares, 3) == [RATE // count] * count
    assert [share.last.processes for share in shares if share.last] == [count] * count


@_pg
async def test_a_joiner_waits_until_the_others_hold_less(processes) -> None:
    first, joiner = processes(), processes()
    assert await rounds([first], 1) == [RATE]
    assert await rounds([joiner], 1) == [0]  # the first holds everything
    waiting = asyncio.ensure_future(limiter(joiner).admit_reply())
    await asyncio.sleep(0.1)
    assert not waiting.done()  # a reply waits, it does not fail
    assert await rounds([first], 1) == [RATE // 2]
    assert first.last is not None and first.last.holds == RATE  # its old total still in force until now
    assert await rounds([joiner], 1) == [0]
    assert await rounds([first, joiner], 1) == [RATE // 2, RATE // 2]
    (await asyncio.wait_for(waiting, 1)).done()


@_pg
async def test_a_process_that_cannot_renew_sends_nothing_once_its_share_lapses(processes) -> None:
    share = processes(**FAST)
    await share.start()
    assert limiter(share).total_now() == RATE
    await share._database.dispose()
    share._database = Database("postgresql+asyncpg://postgres@127.0.0.1:9/none", FieldCipher(secrets.token_bytes(32)))
    lapse = monotonic_seconds() + FAST["grant_seconds"] + 0.1
    await asyncio.sleep(lapse - monotonic_seconds())
    assert limiter(share).total_now() == 0
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter(share).admit_reply(), 0.5)
    assert share._failing


@_pg
async def test_a_dead_processs_share_is_taken_back_after_it_is_forgotten(processes) -> None:
    living, dead = processes(**FAST), processes(**FAST)
    assert await rounds([living, dead], 3) == [RATE // 2, RATE // 2]
    began = monotonic_seconds()  # the dead one renews no more
    while monotonic_seconds() - began < FAST["forget_after"] - 0.5:
        assert await rounds([living], 1) == [RATE // 2]
        await asyncio.sleep(0.2)
    await asyncio.sleep(began + FAST["forget_after"] + 0.2 - monotonic_seconds())
    assert await rounds([living], 1) == [RATE]


@_pg
async def test_a_429_in_one_process_pauses_the_others(processes) -> None:
    seeing, other = processes(), processes()
    await seeing.start()
    await other.start()
    limiter(seeing).pause(3)  # what handlers/rate_limiter.py does on a RetryAfter
    await asyncio.sleep(0.2)  # the seeing process renews at once
    assert await other.renew()
    assert 2.5 < limiter(other).paused_for() <= 3
    assert other.last is not None and other.last.paused_until is None  # not echoed back as its own


def busiest_possible_second(intervals: list[tuple[float, float]]) -> int:
    """The most requests that may have arrived in one second [s, s + 1): those with left < s + 1 and
    answered > s, i.e. s in (left - 1, answered). The deepest overlap of those open intervals."""
    events = sorted([(left - 1, 1) for left, _ in intervals] + [(answered, -1) for _, answered in intervals],
                    key=lambda e: (e[0], e[1]))  # an end before a start at the same instant: open intervals
    depth = best = 0
    for _, step in events:
        depth += step
        best = max(best, depth)
    return best


async def _flood(share: RateShare, until: float, log: list[tuple[float, float]]) -> None:
    async def lane() -> None:
        while monotonic_seconds() < until:
            permit = await limiter(share).admit_reply()
            left = monotonic_seconds()
            await asyncio.sleep(random.uniform(0.005, 0.08))  # the round trip
            log.append((left, monotonic_seconds()))  # the answer is back (then the limiter hears of it)
            permit.done()

    await asyncio.gather(*(lane() for _ in range(12)))


@_pg
async def test_what_all_processes_admit_never_exceeds_the_rate_in_any_second(processes) -> None:
    rate = 20
    shares = [processes(rate, **FAST) for _ in range(3)]
    log: list[tuple[float, float]] = []
    start = monotonic_seconds()
    await shares[0].start()
    await shares[1].start()
    floods = [asyncio.ensure_future(_flood(shares[0], start + 6, log)),
              asyncio.ensure_future(_flood(shares[1], start + 4, log))]
    await asyncio.sleep(1.5)
    await shares[2].start()  # joins while the others send flat out
    floods.append(asyncio.ensure_future(_flood(shares[2], start + 6, log)))
    await floods[1]
    await shares[1].stop()  # leaves: its share goes to the others
    await asyncio.gather(*floods)
    assert busiest_possible_second(log) <= rate
    assert len(log) > 3 * rate  # they did send, close to the rate


SENDER_SECONDS = 3.0


async def _two_processes(database_url: str, rate: int, *extra: str) -> tuple[list[float], list[int]]:
    root = Path(__file__).resolve().parents[2]
    with fake_telegram(throttle_every=10**9) as api:
        senders = [await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.bot.rate_share_sender", api, database_url, str(rate),
            str(SENDER_SECONDS), *extra, cwd=root, stdout=asyncio.subprocess.PIPE) for _ in range(2)]
        outputs = [await asyncio.wait_for(sender.communicate(), 60) for sender in senders]
        assert [sender.returncode for sender in senders] == [0, 0]
        async with aiohttp.ClientSession() as session, session.get(f"{api}/records") as response:
            records = await response.json()
    arrivals = [a["at"] for a in records["arrivals"] if a["method"] == "sendMessage"]
    return arrivals, [int(out.decode()) for out, _ in outputs]


@_pg
async def test_two_os_processes_together_stay_within_the_rate_on_arrival(database_url: str) -> None:
    rate = 20
    arrivals, sent = await _two_processes(database_url, rate)
    assert busiest_second(arrivals) <= rate
    assert sum(sent) == len(arrivals) > 2 * rate  # both sent, at about the rate together
    assert all(count > 0 for count in sent)


@_pg
async def test_without_the_share_two_os_processes_would_exceed_the_rate(database_url: str) -> None:
    """The check above can fail: each process alone at the whole rate sends about twice too much."""
    rate = 20
    arrivals, _ = await _two_processes(database_url, rate, "--no-share")
    assert busiest_second(arrivals) > rate * 3 // 2


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_runner_finds_the_limiter_on_a_production_bots_wire(tmp_path: Path, database_url: str) -> None:
    """bot.runners.telegram starts rate_share_for(application.bot, …): it must find the real limiter."""
    services = await create_services(make_settings(tmp_path, database_url, telegram_token="1:SHARE"), ManualClock(START),
                                     local=True)
    try:
        application = build_application(services)
        share = rate_share_for(application.bot, services.database, services.settings.telegram_rate)
        assert share._limiter is application.bot.rate_limiter.limiter
        assert share.active == (services.database.dialect == "postgresql")
        await share.start()
        assert share._limiter.total_now() == services.settings.telegram_rate  # alone: the whole rate
        await share.stop()
        async with services.database.unit_of_work() as uow:
            assert await uow.sender_shares.every() == []  # it left
    finally:
        await services.database.dispose()


def test_a_share_is_what_the_others_do_not_hold_and_a_pause_is_the_longest_asked() -> None:
    now = datetime(2026, 12, 2, tzinfo=timezone.utc)

    def row(pid: str, holds: int, pause: float | None = None) -> SenderShare:
        return SenderShare(pid, now, now, holds, holds, None if pause is None else now + timedelta(seconds=pause))

    view = SenderShareView(now, None, (row("a", 25, pause=2), row("c", 0, pause=-1)))
    allotment = allot(view, "b", rate=30, footprint=0, own_pause=0)
    assert (allotment.share, allotment.holds, allotment.processes) == (5, 5, 3)  # fair 10, but a holds 25
    assert allotment.pause_left == 2 and allotment.paused_until is None
    mine = allot(view, "b", rate=30, footprint=12, own_pause=3)
    assert (mine.share, mine.holds) == (5, 12)  # still counts 12 admitted under a larger share
    assert mine.paused_until == now + timedelta(seconds=3)
