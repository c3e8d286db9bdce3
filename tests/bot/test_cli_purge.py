"""`healthcode purge` and `healthcode db backup`, run through the real command line."""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.pool import NullPool

from bot.cli import main as cli_main
from bot.clock import ManualClock
from bot.local.chat import LocalUser
from storage.database import create_engine
from tests.handlers.conftest import (
    START,
    VALID_IDS,
    Harness,
    start_harness,
    stop_harness,
)


async def main(argv: list[str]) -> int:
    """The command line as a person runs it: its own event loop (here on a thread of its own)."""
    return await asyncio.to_thread(cli_main, argv)


async def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            metadata = MetaData()
            await connection.run_sync(metadata.reflect)
            return {name: (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                    for name, table in metadata.tables.items()}
    finally:
        await engine.dispose()


async def _populated(tmp_path: Path, url: str, start: datetime = START) -> Harness:
    """Two citizens, five days of declarations from ``start``: Alice yellow, Bob green."""
    harness = await start_harness(tmp_path, url, clock=ManualClock(start))
    alice, bob = LocalUser(20001, "Alice", "en"), LocalUser(20002, "Bob", "en")
    await harness.register(alice)
    await harness.register(bob, resident_id=VALID_IDS[1])
    for _ in range(5):
        await harness.declare(alice, temperature="38.0")
        await harness.declare(bob)
        harness.next_day()
    await harness.say(alice, "/reminders 07:00")
    async with harness.services.database.unit_of_work() as uow:
        await uow.daily_counts.record_day(start.date(), harness.clock.now())
    return harness


def _cli_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "HEALTHCODE_DATABASE_URL": url,
        "HEALTHCODE_DATA_KEY_FILE": str(tmp_path / "state" / "data.key"),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_STATE_DIR": str(tmp_path / "state"),
    }.items():
        monkeypatch.setenv(name, value)


async def test_purge_all_needs_the_confirmation_flag(tmp_path: Path, database_url: str,
                                                     monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    harness = await _populated(tmp_path, database_url)
    await stop_harness(harness)
    _cli_environment(monkeypatch, tmp_path, database_url)
    before = await _row_counts(database_url)
    assert await main(["purge", "--all"]) == 2
    assert "--yes-i-understand" in capsys.readouterr().out
    assert await _row_counts(database_url) == before
    with pytest.raises(SystemExit):
        await main(["purge"])  # neither --all nor --older-than


async def test_purge_all_destroys_personal_data_and_keeps_the_counts(
        tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys, caplog) -> None:
    # Declared over the last days up to now, so the latest credentials are still valid at the purge.
    harness = await _populated(tmp_path, database_url, datetime.now(timezone.utc) - timedelta(days=4))
    now = datetime.now(timezone.utc)
    async with harness.services.database.unit_of_work() as uow:
        valid = [c.cti for user_id in (1, 2) for c in await uow.credentials.issued_to(user_id)
                 if c.expires_at > now + timedelta(minutes=1)]
    await stop_harness(harness)
    _cli_environment(monkeypatch, tmp_path, database_url)
    before = await _row_counts(database_url)
    caplog.set_level(logging.INFO)
    assert await main(["purge", "--all", "--yes-i-understand"]) == 0
    after = await _row_counts(database_url)
    for table in ("users", "declarations", "statuses", "credentials", "preferences", "reminder_settings",
                  "conversation_states"):
        assert before[table] >= 0 and after[table] == 0, table
    assert before["users"] == 2 and before["declarations"] == 10
    assert after["daily_counts"] == before["daily_counts"] > 0
    assert len(valid) >= 2 and after["withdrawn_credentials"] >= len(valid)  # withdrawn before the rows went
    printed = capsys.readouterr().out
    assert "users: 2" in printed and "declarations: 10" in printed and "Kept: anonymous daily counts" in printed
    assert any("users=2" in r.getMessage() and "declarations=10" in r.getMessage() for r in caplog.records)


async def test_purge_older_than_runs_retention_by_hand(tmp_path: Path, database_url: str,
                                                       monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    harness = await _populated(tmp_path, database_url)
    await stop_harness(harness)
    _cli_environment(monkeypatch, tmp_path, database_url)
    # Real time is later than the simulated week, so every declaration is older than 1 day; Alice's
    # yellow code rests on hers (a broken streak), Bob's green code on none.
    assert await main(["purge", "--older-than", "1"]) == 0
    printed = capsys.readouterr().out
    assert "retention (1 days) removed:" in printed and "declarations: 5" in printed
    assert (await _row_counts(database_url))["declarations"] == 5


# --- db backup ------------------------------------------------------------------------------------


async def test_sqlite_backup_is_a_consistent_copy_that_restores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    harness = await _populated(tmp_path, url)
    try:
        _cli_environment(monkeypatch, tmp_path, url)
        target = tmp_path / "backups" / "copy.db"
        target.parent.mkdir()
        assert await main(["db", "backup", str(target)]) == 0  # while the bot still holds its connections
        assert "integrity ok" in capsys.readouterr().out
        assert stat.S_IMODE(target.stat().st_mode) == 0o600  # like the database itself (issue 9, item 10)
        assert await main(["db", "backup", str(target)]) == 2  # never overwrites
        assert "already exists" in capsys.readouterr().err
    finally:
        await stop_harness(harness)
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert copy.execute("SELECT count(*) FROM declarations").fetchone()[0] == 10

    # Restore: the copy becomes the database, with the same data key, and the bot reads it.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    (restored_dir / "healthcode.db").write_bytes(target.read_bytes())
    restored = await start_harness(tmp_path, f"sqlite+aiosqlite:///{restored_dir / 'healthcode.db'}")
    try:
        async with restored.services.database.unit_of_work() as uow:
            alice = await uow.users.get_by_telegram_id(20001)
            history = await uow.declarations.list_between(alice.id, date.min, date(2026, 3, 2) + timedelta(days=10))
        assert alice.resident_id == VALID_IDS[0] and len(history) == 5
    finally:
        await stop_harness(restored)


async def test_postgres_backup_prints_pg_dump_guidance_without_the_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHCODE_DATABASE_URL", "postgresql+asyncpg://health:s3cret@db.internal:5432/hc")
    assert await main(["db", "backup", "hc.dump"]) == 1
    captured = capsys.readouterr()
    assert "pg_dump --format=custom --no-owner --file hc.dump 'postgresql://health:***@db.internal:5432/hc'" in captured.out
    assert "pg_restore" in captured.out and "s3cret" not in captured.out + captured.err
    assert "no file written" in captured.err
    assert not (tmp_path / "hc.dump").exists()
