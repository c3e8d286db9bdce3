"""Personal data never reaches the database file in clear, nor the logs."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.local.chat import LocalUser
from tests.handlers.conftest import VALID_IDS, start_harness, stop_harness

NAME, RESIDENT_ID, PHONE = "欧阳明日", VALID_IDS[2], "13912345678"


async def test_sqlite_file_holds_no_id_or_phone_in_clear(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'raw.db'}"
    harness = await start_harness(tmp_path, url)
    user = LocalUser(40001, "Ouyang", "en")
    await harness.register(user, name=NAME, resident_id=RESIDENT_ID, phone=PHONE)
    await harness.declare(user, temperature="38.4", symptoms=("cough",))
    await stop_harness(harness)  # closes connections: the WAL is checkpointed into the file
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("raw.db*"))
    assert len(raw) > 10_000
    for secret in (RESIDENT_ID, PHONE, RESIDENT_ID[:17], PHONE[3:]):
        assert secret.encode() not in raw, secret
    assert NAME.encode() not in raw


async def test_logs_of_a_whole_session_hold_no_personal_data(tmp_path: Path, database_url: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await start_harness(tmp_path, database_url)
    user = LocalUser(40002, "Ouyang", "en")
    try:
        await harness.register(user, name=NAME, resident_id=RESIDENT_ID, phone=PHONE)
        await harness.declare(user, temperature="38.7", symptoms=("fever",))
        await harness.say(user, "/status")
        await harness.say(user, "36.6")
        await harness.say(user, "/checkin")
        await harness.say(user, "99")
        harness.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        await harness.say(user, "/cancel")
    finally:
        await stop_harness(harness)
    captured = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    turns = [r for r in caplog.records if r.name == "healthcode.turns" and r.levelno == logging.DEBUG]
    assert len(turns) > 15  # DEBUG logging really was on, for every update
    for secret in (NAME, RESIDENT_ID, PHONE, "38.7"):
        assert secret not in captured, secret
