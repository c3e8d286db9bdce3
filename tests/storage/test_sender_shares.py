"""sender_shares: the rows bot.rate_share renews, on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.database import Database


async def test_a_renewal_sees_the_others_records_itself_and_forgets_the_unseen(database: Database) -> None:
    async with database.unit_of_work() as uow:
        view = await uow.sender_shares.open("a", forget_after=timedelta(seconds=5))
        assert view.mine is None and view.others == ()
        assert view.now.tzinfo is not None
        await uow.sender_shares.record("a", now=view.now, valid_until=view.now + timedelta(seconds=2),
                                       share=30, holds=30, paused_until=None)
    async with database.unit_of_work() as uow:
        view = await uow.sender_shares.open("b", forget_after=timedelta(seconds=5))
        assert [row.process_id for row in view.others] == ["a"] and view.mine is None
        assert view.others[0].share == 30 and view.others[0].valid_until > view.now
        await uow.sender_shares.record("b", now=view.now, valid_until=view.now, share=0, holds=0,
                                       paused_until=view.now + timedelta(seconds=3))
    await asyncio.sleep(0.3)
    async with database.unit_of_work() as uow:  # "a" unseen for more than 0.2 s: forgotten; "b" is itself
        view = await uow.sender_shares.open("b", forget_after=timedelta(seconds=0.2))
        assert view.others == () and view.mine is not None and view.mine.paused_until is not None
    async with database.unit_of_work() as uow:
        assert [row.process_id for row in await uow.sender_shares.every()] == ["b"]
        await uow.sender_shares.leave("b")
    async with database.unit_of_work() as uow:
        assert await uow.sender_shares.every() == []


async def test_a_share_above_what_is_held_is_refused(database: Database) -> None:
    async with database.unit_of_work() as uow:
        view = await uow.sender_shares.open("a", forget_after=timedelta(seconds=5))
        with pytest.raises(ValueError, match="share 5, holds 4"):
            await uow.sender_shares.record("a", now=view.now, valid_until=view.now, share=5, holds=4,
                                           paused_until=None)
