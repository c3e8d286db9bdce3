"""OutgoingLimiter.set_total and footprint: the total bot.rate_share sets while the limiter runs."""
from __future__ import annotations

import asyncio

import pytest

from bot.clock import monotonic_seconds
from bot.rate_limit import OutgoingLimiter, SendHeldBack, bulk_send


async def test_a_lowered_total_holds_at_once_until_what_is_counted_drains() -> None:
    limiter = OutgoingLimiter(bulk_rate=10, total=10)
    permits = [await limiter.admit_reply() for _ in range(6)]
    limiter.set_total(4)
    waiting = asyncio.ensure_future(limiter.admit_reply())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # six counted, four allowed
    for permit in permits:
        permit.done()  # answered: still counted for a second
    answered = monotonic_seconds()
    permit = await asyncio.wait_for(waiting, 2)
    assert monotonic_seconds() - answered >= 0.99
    permit.done()


async def test_a_lapsed_total_stops_replies_and_holds_reserved_bulk_back() -> None:
    limiter = OutgoingLimiter(bulk_rate=10, total=10)
    ticket = await limiter.reserve_bulk()
    assert ticket is not None
    limiter.set_total(10, until=monotonic_seconds() + 0.1)
    await asyncio.sleep(0.15)
    assert limiter.total_now() == 0
    with pytest.raises(TimeoutError):  # a reply waits, it does not fail
        await asyncio.wait_for(limiter.admit_reply(), 0.3)
    with bulk_send(ticket), pytest.raises(SendHeldBack, match="no share"):
        await limiter.admit_bulk(1)
    ticket.release()
    waiting = asyncio.ensure_future(limiter.admit_reply())
    limiter.set_total(3)  # renewed: the waiting reply leaves at once
    (await asyncio.wait_for(waiting, 0.5)).done()


async def test_the_footprint_covers_what_was_admitted_under_a_larger_total() -> None:
    limiter = OutgoingLimiter(bulk_rate=10, total=20)
    in_flight = await limiter.admit_reply()
    ticket = await limiter.reserve_bulk()
    assert ticket is not None
    limiter.set_total(5)
    assert limiter.footprint() == 20  # one in flight and one reserved under 20
    ticket.release()
    in_flight.done()
    assert limiter.footprint() == 20  # answered, still counted for a second
    await asyncio.sleep(1.05)
    assert limiter.footprint() == 5
    limiter.set_total(0)
    assert limiter.footprint() == 0


def test_a_total_must_be_a_whole_number_of_at_least_zero() -> None:
    limiter = OutgoingLimiter(bulk_rate=10, total=10)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="total: expected a whole number"):
            limiter.set_total(bad)  # type: ignore[arg-type]


async def test_an_announced_pause_reaches_the_listeners_and_a_relayed_one_does_not() -> None:
    limiter = OutgoingLimiter(bulk_rate=10, total=10)
    heard: list[float] = []
    limiter.on_pause(heard.append)
    limiter.pause(2)
    limiter.pause(3, announce=False)
    assert len(heard) == 1 and 2.5 < limiter.paused_for() <= 3
