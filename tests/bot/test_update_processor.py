"""One user's updates run in order; different users' run concurrently."""
from __future__ import annotations

import asyncio

from telegram import Update

from bot.update_processor import PerUserUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    return Update.de_json({"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "x"}, "text": "hi"}}, None)


async def test_same_user_in_order_other_users_concurrently() -> None:
    processor = PerUserUpdateProcessor(64)
    log: list[tuple[str, int, int]] = []

    async def work(update_id: int, user_id: int, delay: float) -> None:
        log.append(("start", user_id, update_id))
        await asyncio.sleep(delay)
        log.append(("end", user_id, update_id))

    jobs = [(1, 7, 0.05), (2, 7, 0.0), (3, 8, 0.0), (4, 7, 0.0)]
    await asyncio.gather(*(processor.process_update(_update(u, user), work(u, user, d)) for u, user, d in jobs))

    user7 = [(kind, u) for kind, user, u in log if user == 7]
    assert user7 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    # user 8 did not wait for user 7's slow first update
    assert log.index(("end", 8, 3)) < log.index(("end", 7, 1))
    assert processor._locks == {} and processor._waiting == {}  # idle users are forgotten


async def test_a_flood_from_one_user_does_not_starve_others() -> None:
    processor = PerUserUpdateProcessor(2)
    release = asyncio.Event()
    finished: list[int] = []

    async def slow(update_id: int) -> None:
        await release.wait()
        finished.append(update_id)

    async def quick(update_id: int) -> None:
        finished.append(update_id)

    flood = [asyncio.create_task(processor.process_update(_update(u, 7), slow(u))) for u in range(1, 11)]
    await asyncio.sleep(0.01)
    await asyncio.wait_for(processor.process_update(_update(99, 8), quick(99)), timeout=1)
    assert finished == [99]  # user 8 was served while user 7's ten updates queued
    release.set()
    await asyncio.gather(*flood)
    assert finished[1:] == list(range(1, 11))
