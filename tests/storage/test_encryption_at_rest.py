"""The SQLite file itself, read as raw bytes, holds no personal data in clear."""
from __future__ import annotations

import secrets
import sqlite3
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from rules.model import Answers, Diagnosis, Symptom, TravelRisk
from storage.database import Database
from storage.encryption import FieldCipher
from storage.migrate import upgrade
from storage.records import ConversationState, NewUser

NOW = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)
NAME = "欧阳娜娜Quixotic"
RESIDENT_ID = "44030519870609777X"
PHONE = "+8613987654321"
REGION = "R440305zz"  # stored in clear on purpose: proves the scan sees the data


async def _database_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "at-rest.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database(url, FieldCipher(secrets.token_bytes(32)))
    try:
        async with db.unit_of_work() as uow:
            user = await uow.users.add(
                NewUser(777, NAME, RESIDENT_ID, PHONE, REGION, "2024-01", NOW), NOW
            )
            answers = Answers(Decimal("39.7"), frozenset({Symptom.LOSS_OF_TASTE_OR_SMELL}), True, TravelRisk.HIGH, Diagnosis.CONFIRMED)
            await uow.declarations.upsert(user.id, date(2024, 3, 1), answers, NOW)
            await uow.conversations.save(
                ConversationState(777, "register", "phone", {"half_typed_id": RESIDENT_ID[:12]}), NOW
            )
        async with db.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
        # Checkpoint while the pool still holds connections (so the WAL is not
        # merged merely by closing) and outside any transaction.
        plain = sqlite3.connect(path, isolation_level=None)
        try:
            busy, _, _ = plain.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            plain.close()
    finally:
        await db.dispose()
    assert mode == "wal" and busy == 0
    return b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.name.startswith("at-rest.db"))


async def test_no_personal_data_in_the_database_file(tmp_path: Path) -> None:
    raw = await _database_bytes(tmp_path)
    assert REGION.encode() in raw  # the scan really sees row data
    for secret in (NAME, "欧阳娜娜", "Quixotic", RESIDENT_ID, RESIDENT_ID[:12], PHONE, PHONE[3:]):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert secret.encode(encoding) not in raw, f"{encoding} clear text found"
    for answer in (b"39.7", b"loss_of_taste_or_smell", b"confirmed", b"half_typed_id"):
        assert answer not in raw
