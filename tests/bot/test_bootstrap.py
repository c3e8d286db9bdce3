"""Start-up refuses what it cannot use, naming the setting or the file and field."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.bootstrap import StartupError, create_services, load_data_key, load_policy, write_data_key
from bot.clock import ManualClock
from bot.settings import load_settings

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def _settings(tmp_path: Path, **overrides: object):
    values = {"_env_file": None, "database_url": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
              "state_dir": tmp_path / "state", "keys_dir": tmp_path / "keys"}
    values.update(overrides)
    return load_settings(**values)


def test_malformed_policy_names_file_and_field(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    text = (Path(__file__).parents[2] / "rules" / "default_policy.toml").read_text()
    policy.write_text(text.replace("yellow_days = 7", "yellow_days = 0"))
    with pytest.raises(StartupError, match=r"policy.toml: recovery.yellow_days"):
        load_policy(_settings(tmp_path, policy_file=policy))


def test_missing_policy_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="HEALTHCODE_POLICY_FILE: cannot read"):
        load_policy(_settings(tmp_path, policy_file=tmp_path / "nope.toml"))


def test_a_changed_threshold_changes_behaviour_without_code(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "rules" / "default_policy.toml").read_text()
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace("temperature_at_least = 37.3", "temperature_at_least = 38.0"))
    assert str(load_policy(_settings(tmp_path, policy_file=policy)).yellow.temperature_at_least) == "38.0"


def test_run_without_a_data_key_names_the_setting(tmp_path: Path) -> None:
    # Unset, the setting means the state directory's data.key (where the shell keeps it); issue 9, item 26.
    with pytest.raises(StartupError, match=r"HEALTHCODE_DATA_KEY_FILE: .*state/data.key does not exist"):
        load_data_key(_settings(tmp_path), create=False)


def test_the_shell_creates_its_data_key_once_with_0600(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = load_data_key(settings, create=True)
    path = tmp_path / "state" / "data.key"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_data_key(settings, create=True) == first and len(first) == 32


def test_data_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    write_data_key(path)
    path.chmod(0o644)
    with pytest.raises(StartupError, match="chmod 600"):
        load_data_key(_settings(tmp_path, data_key_file=path), create=False)


def test_malformed_data_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    path.write_text("not hex")
    path.chmod(0o600)
    with pytest.raises(StartupError, match="32 bytes as hex"):
        load_data_key(_settings(tmp_path, data_key_file=path), create=False)


async def test_run_needs_signing_keys_generated_beforehand(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    write_data_key(path)
    with pytest.raises(StartupError, match="HEALTHCODE_KEYS_DIR"):
        await create_services(_settings(tmp_path, data_key_file=path), ManualClock(NOW), local=False)
