"""The per-process queue of card file ids: batches, replacement of refused ids, a bounded memory."""
from __future__ import annotations

from datetime import datetime, timezone

from bot.services.card_file_ids import BATCH, MAX_AGE, CardFileIds, LearntFileId

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def test_a_batch_is_due_when_full_or_when_its_oldest_id_has_waited() -> None:
    ids = CardFileIds()
    ids.learn([LearntFileId("a", "f-a")], T0)
    assert ids.due(T0) == [] and ids.due(T0 + MAX_AGE) == [LearntFileId("a", "f-a")]
    ids.learn([LearntFileId(f"c{n:04}", f"f{n}") for n in range(BATCH)], T0)
    assert len(ids.due(T0)) == BATCH + 1
    ids.written(hint.cti for hint in ids.unwritten())
    assert ids.due(T0 + MAX_AGE) == []
    assert ids.hint("a") == LearntFileId("a", "f-a"), "kept for the next refresh until seen stored"


def test_an_id_replaces_only_nothing_or_the_id_telegram_refused() -> None:
    fresh, renewed = LearntFileId("a", "f2"), LearntFileId("a", "f2", replaces="f1")
    assert fresh.applies_to(None) and not fresh.applies_to("f2") and not fresh.applies_to("other-process")
    assert renewed.applies_to("f1") and renewed.applies_to(None) and not renewed.applies_to("other-process")


def test_memory_is_bounded_by_forgetting_the_oldest() -> None:
    ids = CardFileIds(capacity=2)
    ids.learn([LearntFileId("a", "1"), LearntFileId("b", "2"), LearntFileId("c", "3")], T0)
    assert ids.hint("a") is None and ids.hint("c") is not None
    assert [hint.cti for hint in ids.unwritten()] == ["b", "c"]
