"""A wrong or missing data key is refused by every command that opens the database (issue 9, item 2).

With another key every sealed field fails to open and blind indexes match nothing, so an ID number
already registered could be registered again. The database records a key check value; each
command compares it before doing anything, and says so in one line naming HEALTHCODE_DATA_KEY_FILE.
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.pool import NullPool

from bot.bootstrap import StartupError, create_services, write_data_key
from bot.cli import main as cli_main
from bot.clock import ManualClock
from bot.local.chat import LocalUser
from storage.database import create_engine
from storage.encryption import FieldCipher
from storage.models import DataKeyCheckRow, UserRow
from tests.handlers.conftest import START, make_settings, start_harness, stop_harness

HEALTHCODE = str(Path(sys.executable).parent / "healthcode")
SETTING = "HEALTHCODE_DATA_KEY_FILE"


async def _scalar(url: str, query):
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(query)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def _populated(tmp_path: Path, url: str) -> Path:
    """One registered citizen, sealed under the key in state/data.key (returned)."""
    harness = await start_harness(tmp_path, url)
    await harness.register(LocalUser(20001, "Alice", "en"))
    await stop_harness(harness)
    return tmp_path / "state" / "data.key"


def _environment(tmp_path: Path, url: str, key: Path) -> dict[str, str]:
    return {
        "HEALTHCODE_DATABASE_URL": url,
        "HEALTHCODE_DATA_KEY_FILE": str(key),
        "HEALTHCODE_KEYS_DIR": str(tmp_path / "keys"),
        "HEALTHCODE_STATE_DIR": str(tmp_path / "state"),
        "HEALTHCODE_WEB_PORT": "0",
        "HEALTHCODE_TELEGRAM_TOKEN": "1:X",
        "HEALTHCODE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",  # never reached: refused before
    }


def _other_key(tmp_path: Path) -> Path:
    path = tmp_path / "other.key"
    write_data_key(path)
    return path


async def _cli(argv: list[str]) -> int:
    return await asyncio.to_thread(cli_main, argv)


def _assert_one_line_naming_the_setting(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and SETTING in lines[0] and "Traceback" not in stderr, stderr


CLI_COMMANDS = [["purge", "--older-than", "1"], ["purge", "--all", "--yes-i-understand"], ["db", "upgrade"],
                ["db", "backup", "copy.db"], ["shell"]]


@pytest.mark.parametrize("argv", CLI_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("key", ["wrong", "missing"])
async def test_commands_refuse_a_wrong_or_missing_key(tmp_path: Path, database_url: str, argv: list[str], key: str,
                                                      monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    await _populated(tmp_path, database_url)
    given = _other_key(tmp_path) if key == "wrong" else tmp_path / "no-such.key"
    monkeypatch.chdir(tmp_path)
    for name, value in _environment(tmp_path, database_url, given).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    if argv[:2] == ["db", "backup"] and database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL is backed up with pg_dump: the command writes nothing")
    assert await _cli(argv) == 2
    _assert_one_line_naming_the_setting(capsys.readouterr().err)
    assert await _scalar(database_url, select(func.count()).select_from(UserRow)) == 1  # nothing purged
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "no-such.key").exists()


@pytest.mark.parametrize("command", ["web", "run"])
async def test_servers_refuse_a_wrong_key(tmp_path: Path, database_url: str, command: str) -> None:
    await _populated(tmp_path, database_url)
    env = {"PATH": os.environ["PATH"], **_environment(tmp_path, database_url, _other_key(tmp_path))}
    done = await asyncio.to_thread(subprocess.run, [HEALTHCODE, command], cwd=tmp_path, env=env,
                                   capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert done.returncode == 2, done.stderr[-3000:]
    _assert_one_line_naming_the_setting(done.stderr)


async def test_the_shell_makes_no_new_key_next_to_an_existing_database(tmp_path: Path, database_url: str) -> None:
    key = await _populated(tmp_path, database_url)
    key.unlink()
    with pytest.raises(StartupError, match=f"{SETTING}: .* does not exist, but the database holds data") as raised:
        await create_services(make_settings(tmp_path, database_url), ManualClock(START), local=True)
    assert "\n" not in str(raised.value)
    assert not key.exists()


async def test_a_new_database_records_the_check_on_first_start(tmp_path: Path, database_url: str) -> None:
    services = await create_services(make_settings(tmp_path, database_url), ManualClock(START), local=True)
    await services.database.dispose()
    key = bytes.fromhex((tmp_path / "state" / "data.key").read_text())
    stored = await _scalar(database_url, select(DataKeyCheckRow.check_value))
    assert stored == FieldCipher(key).key_check_value() and len(stored) == 32
    assert key not in stored and key.hex().encode() not in stored  # a digest, never the key
    # The same key starts again; another one, on an empty database too, does not.
    again = await create_services(make_settings(tmp_path, database_url), ManualClock(START), local=True)
    await again.database.dispose()
    with pytest.raises(StartupError, match=f"{SETTING}: .*other.key is not the key this database"):
        await create_services(make_settings(tmp_path, database_url, data_key_file=_other_key(tmp_path)),
                              ManualClock(START), local=True)


async def test_a_database_from_before_the_check_records_it_with_the_key_given(
        tmp_path: Path, database_url: str, caplog) -> None:
    key = await _populated(tmp_path, database_url)
    await _scalar(database_url, delete(DataKeyCheckRow))  # as after upgrading: data, but no check value
    # Even then a wrong key is noticed: a person's sealed name does not open with it.
    with pytest.raises(StartupError, match=f"{SETTING}: .* is not the key this database"):
        await create_services(make_settings(tmp_path, database_url, data_key_file=_other_key(tmp_path)),
                              ManualClock(START), local=False)
    assert await _scalar(database_url, select(func.count()).select_from(DataKeyCheckRow)) == 0
    caplog.set_level(logging.WARNING)
    services = await create_services(make_settings(tmp_path, database_url, data_key_file=key),
                                     ManualClock(START), local=False)
    await services.database.dispose()
    assert await _scalar(database_url, select(DataKeyCheckRow.check_value)) == \
        FieldCipher(bytes.fromhex(key.read_text())).key_check_value()
    assert any("data key check recorded for existing data" in r.getMessage() for r in caplog.records)
