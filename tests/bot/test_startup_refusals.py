"""Bad settings stop the real command line in one line that names the setting: exit 2, no traceback,
within seconds (issue 9, item 9)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.bootstrap import write_data_key
from bot.credentials.keyring import KeyRing

HEALTHCODE = str(Path(sys.executable).parent / "healthcode")
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
# Python's start-up and imports take a few seconds on a busy machine; a hang is what this catches.
TIME_BOUND_SECONDS = 20.0


def _prepared(tmp_path: Path) -> Path:
    """A folder where `healthcode web` would start: a data key and a signing key in ./.healthcode."""
    write_data_key(tmp_path / ".healthcode" / "data.key")
    KeyRing.generate(tmp_path / ".healthcode" / "keys", datetime.now(timezone.utc))
    return tmp_path


def start(cwd: Path, *command: str, **settings: str) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {"PATH": os.environ["PATH"], "HEALTHCODE_WEB_PORT": "0",
           **{f"HEALTHCODE_{name.upper()}": value for name, value in settings.items()}}
    started = time.monotonic()
    done = subprocess.run([HEALTHCODE, *command], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=TIME_BOUND_SECONDS)
    return done, time.monotonic() - started


def assert_refused_naming(done: subprocess.CompletedProcess[str], elapsed: float, setting: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(lines) == 1 and setting in lines[0], done.stderr
    assert elapsed < TIME_BOUND_SECONDS


@pytest.mark.parametrize("command", [("web",), ("run",)])
def test_a_malformed_database_url(tmp_path: Path, command: tuple[str, ...]) -> None:
    done, elapsed = start(_prepared(tmp_path), *command, database_url="postgresql+asyncpg://u@[::1",
                          telegram_token="1:X")
    assert_refused_naming(done, elapsed, "HEALTHCODE_DATABASE_URL")
    assert "u@" not in done.stderr  # the URL may hold a password: never echoed


@pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_a_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = make_url(PG_URL).set(database="hc_no_such_database").render_as_string(hide_password=False)
    done, elapsed = start(_prepared(tmp_path), "web", database_url=missing)
    assert_refused_naming(done, elapsed, "HEALTHCODE_DATABASE_URL")
    assert "does not exist" in done.stderr


@pytest.mark.parametrize("command", [("web",), ("run",)])
def test_a_web_host_that_does_not_resolve(tmp_path: Path, command: tuple[str, ...]) -> None:
    done, elapsed = start(_prepared(tmp_path), *command, web_host="not-a-host.invalid", telegram_token="1:X")
    assert_refused_naming(done, elapsed, "HEALTHCODE_WEB_HOST")


def _policy_not_utf8(path: Path) -> None:
    path.write_bytes(b'name = "caf\xe9"\n')


def _policy_nested_too_deep(path: Path) -> None:
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")


def _policy_fifo(path: Path) -> None:
    os.mkfifo(path)  # opening it for reading would wait for a writer for ever


def _policy_directory(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize("make_policy", [_policy_not_utf8, _policy_nested_too_deep, _policy_fifo, _policy_directory])
@pytest.mark.parametrize("command", [("web",), ("shell",)])
def test_an_unusable_policy_file(tmp_path: Path, make_policy, command: tuple[str, ...]) -> None:
    policy = tmp_path / "policy.toml"
    make_policy(policy)
    done, elapsed = start(_prepared(tmp_path), *command, policy_file=str(policy))
    assert_refused_naming(done, elapsed, "HEALTHCODE_POLICY_FILE")
