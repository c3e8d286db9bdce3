"""`healthcode keys generate | rotate | list | export | data-key`."""
from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bot.bootstrap import read_data_key
from bot.cli import main
from bot.credentials.keyring import KeyRing
from bot.credentials.trust import parse_trust_list


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTHCODE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("HEALTHCODE_ISSUER", "CN-310100")
    return tmp_path


def test_generate_list_rotate_export(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    first = KeyRing.load(env / "keys").current_signer().kid
    assert first in capsys.readouterr().out
    assert main(["keys", "generate"]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err

    assert main(["keys", "rotate"]) == 0
    second = KeyRing.load(env / "keys").current_signer().kid
    out = capsys.readouterr().out
    assert second != first and f"{second} is published now and signs from" in out
    assert f"until then {first} signs, in every process" in out
    retired = next(key for key in KeyRing.load(env / "keys").public_keys() if key.kid == first)
    # The old key signs until the new one's not_before (published 60 min ahead); then it stays published
    # for the longest credential it signed last (48 h) and an hour's margin.
    assert retired.not_after - next(
        key for key in KeyRing.load(env / "keys").public_keys() if key.kid == second).not_before == timedelta(hours=49)

    assert main(["keys", "list"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split() == ["KID", "STATUS", "NOT", "BEFORE", "NOT", "AFTER", "PUBLISHED"]
    assert rows[1].split()[:2] == [first, "retired"] and rows[1].split()[-1] == "yes"
    assert rows[2].split()[:2] == [second, "active"] and rows[2].split()[-2:] == ["-", "yes"]

    assert main(["keys", "export", "--out", str(env / "list.json")]) == 0
    assert "wrote the trust list of CN-310100 (2 key(s))" in capsys.readouterr().out
    published = parse_trust_list(json.loads((env / "list.json").read_text("utf-8")), "exported")
    assert published.issuer == "CN-310100" and published.region == "上海市" and set(published.keys) == {first, second}
    assert main(["keys", "export"]) == 0
    assert json.loads(capsys.readouterr().out)["issuer"] == "CN-310100"


def test_commands_without_keys_say_how_to_make_them(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("rotate", "list", "export"):
        assert main(["keys", action]) == 1
        assert "healthcode keys generate" in capsys.readouterr().err


def test_data_key_is_32_random_bytes_in_hex_with_mode_0600(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "secrets" / "data.key"
    assert main(["keys", "data-key", str(path)]) == 0
    assert f"HEALTHCODE_DATA_KEY_FILE={path}" in capsys.readouterr().out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(read_data_key(path)) == 32
    before = path.read_text()
    assert main(["keys", "data-key", str(path)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err and path.read_text() == before
    other = env / "other.key"
    main(["keys", "data-key", str(other)])
    assert other.read_text() != before
