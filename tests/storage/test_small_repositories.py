"""uow.preferences, uow.conversations and uow.updates on every backend."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.errors import DecryptionError
from storage.models import ConversationStateRow, PreferenceRow, ProcessedUpdateRow
from storage.records import ConversationState


async def test_language_is_none_until_chosen(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.preferences.get_language(7) is None


async def test_set_language_creates_then_replaces(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.preferences.set_language(7, "en", now)
        await uow.preferences.set_language(8, "zh-Hans", now)
    later = now + timedelta(hours=1)
    async with database.unit_of_work() as uow:
        await uow.preferences.set_language(7, "zh-Hant", later)
    async with database.unit_of_work() as uow:
        assert await uow.preferences.get_language(7) == "zh-Hant"
        assert await uow.preferences.get_language(8) == "zh-Hans"
    async with database.engine.connect() as connection:
        updated = (await connection.execute(select(PreferenceRow.updated_at).where(PreferenceRow.telegram_id == 7))).scalar_one()
    assert updated == later


async def test_conversation_round_trip_with_a_nested_draft(database: Database, now: datetime) -> None:
    state = ConversationState(
        telegram_id=42,
        flow="register",
        step="resident_id",
        draft={"name": "李小明", "resident_id": "1101051990", "answers": {"symptoms": ["cough"], "t": 36.6}},
    )
    async with database.unit_of_work() as uow:
        assert await uow.conversations.get(42) is None
        await uow.conversations.save(state, now)
    async with database.unit_of_work() as uow:
        assert await uow.conversations.get(42) == state


async def test_conversation_save_replaces_the_previous_state(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(42, "register", "name", {"name": "A"}), now)
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(42, "declare", "temperature"), now)
    async with database.unit_of_work() as uow:
        assert await uow.conversations.get(42) == ConversationState(42, "declare", "temperature", {})


async def test_conversation_clear(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(42, "register", "name"), now)
        await uow.conversations.save(ConversationState(43, "register", "name"), now)
    async with database.unit_of_work() as uow:
        assert await uow.conversations.clear(42) is True
        assert await uow.conversations.clear(42) is False
    async with database.unit_of_work() as uow:
        assert await uow.conversations.get(42) is None
        assert await uow.conversations.get(43) is not None


async def test_conversation_draft_is_sealed(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(42, "register", "phone", {"resident_id": "110105199003"}), now)
    async with database.engine.connect() as connection:
        blob = (await connection.execute(select(ConversationStateRow.draft_enc))).scalar_one()
    assert b"110105199003" not in blob and b"resident_id" not in blob


async def test_a_draft_moved_to_another_person_does_not_open(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        await uow.conversations.save(ConversationState(42, "register", "phone", {"x": 1}), now)
    async with database.engine.begin() as connection:
        await connection.execute(ConversationStateRow.__table__.update().values(telegram_id=43))
    async with database.unit_of_work() as uow:
        with pytest.raises(DecryptionError):
            await uow.conversations.get(43)


async def test_non_json_drafts_are_refused_with_a_named_field(database: Database, now: datetime) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match=r"draft: must be JSON-serialisable \(.*date"):
            await uow.conversations.save(ConversationState(42, "declare", "day", {"day": date(2024, 1, 1)}), now)
        with pytest.raises(TypeError, match="draft: must be a dict, got list"):
            await uow.conversations.save(ConversationState(42, "declare", "day", [1]), now)  # type: ignore[arg-type]
        assert await uow.conversations.get(42) is None


async def test_mark_processed_is_true_once_per_update(database: Database, now: datetime) -> None:
    big = 2**40 + 1
    async with database.unit_of_work() as uow:
        assert await uow.updates.is_processed(big) is False
        assert await uow.updates.mark_processed(big, now) is True
        assert await uow.updates.is_processed(big) is True and await uow.updates.is_processed(big + 1) is False
        assert await uow.updates.mark_processed(big, now) is False
        assert await uow.updates.mark_processed(big + 1, now) is True
    async with database.unit_of_work() as uow:
        assert await uow.updates.mark_processed(big, now + timedelta(seconds=5)) is False
    async with database.engine.connect() as connection:
        rows = (await connection.execute(select(ProcessedUpdateRow.update_id, ProcessedUpdateRow.processed_at))).all()
    assert sorted(rows) == [(big, now), (big + 1, now)]


async def test_mark_processed_in_a_rolled_back_unit_is_forgotten(database: Database, now: datetime) -> None:
    with pytest.raises(LookupError):
        async with database.unit_of_work() as uow:
            assert await uow.updates.mark_processed(1, now) is True
            raise LookupError("handler failed")
    async with database.unit_of_work() as uow:
        assert await uow.updates.mark_processed(1, now) is True
