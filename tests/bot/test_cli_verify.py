"""`healthcode verify`: offline, from files only; exit 0 valid, 1 not, 2 bad usage."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.credentials.cwt import issue_credential
from bot.credentials.keyring import KeyRing
from bot.card_image import render_card
from rules.model import Colour

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
AT = ["--at", NOW.isoformat()]


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[KeyRing, Path]:
    monkeypatch.chdir(tmp_path)
    ring = KeyRing.generate(tmp_path / "issuer-keys", NOW - timedelta(days=1))
    trust_file = tmp_path / "list.json"
    trust_file.write_text(json.dumps(ring.export_trust_list("CN-330100", "杭州市", NOW, timedelta(days=1))), "utf-8")
    return ring, trust_file


def _token(ring: KeyRing, colour: Colour = Colour.RED) -> tuple[str, str]:
    issued = issue_credential(ring.current_signer(), issuer="CN-330100", subject="cli", colour=colour,
                              issued_at=NOW, expires_at=NOW + timedelta(hours=30))
    return issued.token, issued.cti_hex


def test_prints_the_result_in_the_chosen_language(issuer: tuple[KeyRing, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ring, trust_file = issuer
    token, _ = _token(ring)
    assert main(["verify", token, "--trust-list", str(trust_file), *AT, "--lang", "zh-CN"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "✅ 有效 · 红码" and lines[1] == "签发地：杭州市（CN-330100）"
    assert main(["verify", token, "--trust-list", str(trust_file), "--at", "2026-03-04T01:00:00+00:00",
                 "--lang", "en"]) == 1
    assert capsys.readouterr().out.startswith("❌ NOT VALID: the code has expired")


def test_revocation_list_files_are_honoured(issuer: tuple[KeyRing, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ring, trust_file = issuer
    token, cti = _token(ring)
    revoked = tmp_path / "revoked.json"
    revoked.write_text(json.dumps({"format": "healthcode-revocation-list/1", "issuer": "CN-330100",
                                   "revoked": [{"cti": cti, "exp": NOW.isoformat()}]}), "utf-8")
    assert main(["verify", token, "--trust-list", str(trust_file), "--revocation-list", str(revoked), *AT,
                 "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "revoked"


def test_pictures_without_exactly_one_code_and_bad_files(issuer: tuple[KeyRing, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    ring, trust_file = issuer
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), "white").save(blank)
    assert main(["verify", str(blank), "--trust-list", str(trust_file), *AT, "--lang", "en"]) == 1
    assert "no QR code" in capsys.readouterr().out
    card = Image.open(io.BytesIO(render_card("https://x/v/" + _token(ring)[0], Colour.GREEN))).convert("RGB")
    pair = Image.new("RGB", (card.width * 2 + 40, card.height), "white")
    pair.paste(card, (0, 0))
    pair.paste(card, (card.width + 40, 0))
    pair.save(tmp_path / "pair.jpg")
    assert main(["verify", str(tmp_path / "pair.jpg"), "--trust-list", str(trust_file), *AT, "--lang", "en"]) == 1
    assert "found 2 QR codes" in capsys.readouterr().out
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["verify", str(tmp_path / "notes.txt"), "--trust-list", str(trust_file)]) == 2
    assert "not a readable picture" in capsys.readouterr().err
    assert main(["verify", "x", "--trust-list", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read trust list" in capsys.readouterr().err


def test_the_installed_command_needs_no_database_and_no_network(issuer: tuple[KeyRing, Path], tmp_path: Path) -> None:
    ring, trust_file = issuer
    token, _ = _token(ring, Colour.GREEN)
    picture = tmp_path / "card.png"
    picture.write_bytes(render_card(f"https://hz.example.cn/v/{token}", Colour.GREEN))
    environment = {**os.environ, "HEALTHCODE_DATABASE_URL": "postgresql+asyncpg://nobody@192.0.2.1:1/none",
                   "HEALTHCODE_TRUSTED_ISSUERS": "https://192.0.2.1/unreachable.json",
                   "HEALTHCODE_DEFAULT_LANGUAGE": "en"}
    command = [str(Path(sys.executable).parent / "healthcode"), "verify", str(picture), "--trust-list",
               str(trust_file), *AT]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("✅ VALID · Green code") and done.stderr == ""


def _signed_by(ring: KeyRing, *, iat: int, exp: int) -> str:
    import cbor2

    from bot.credentials.keyring import b64url_encode

    signer = ring.current_signer()
    protected = cbor2.dumps({1: -8, 4: signer.kid_bytes})
    payload = cbor2.dumps({1: "CN-330100", 2: "cli", 6: iat, 4: exp, 7: bytes(10), -65537: "green"})
    signature = signer.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    return b64url_encode(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, signature])))


@pytest.mark.parametrize(("iat", "exp", "reason"), [
    (253370764800, 253370768400, "malformed"),  # 9999-01-01: was a traceback
    (int(NOW.timestamp()), 253402300000 - 3600, "malformed"),
    (int(NOW.timestamp()), int((NOW + timedelta(days=30)).timestamp()), "invalid_lifetime"),
])
def test_out_of_range_times_are_a_reason_not_a_traceback(issuer: tuple[KeyRing, Path], iat: int, exp: int,
                                                         reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    ring, trust_file = issuer
    token = _signed_by(ring, iat=iat, exp=exp)
    assert main(["verify", token, "--trust-list", str(trust_file), *AT, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == reason
    assert main(["verify", token, "--trust-list", str(trust_file), *AT, "--lang", "en"]) == 1
    assert capsys.readouterr().out.startswith("❌ NOT VALID: ")


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-05:00", "1969-12-31T00:00:00+00:00"])
def test_a_clock_outside_the_credentials_range_is_bad_usage(issuer: tuple[KeyRing, Path], at: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    ring, trust_file = issuer
    with pytest.raises(SystemExit) as stopped:
        main(["verify", _token(ring)[0], "--trust-list", str(trust_file), "--at", at])
    assert stopped.value.code == 2 and "outside the years 1970-2105" in capsys.readouterr().err
