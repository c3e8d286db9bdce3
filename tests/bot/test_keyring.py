"""The key ring: key files on disk, their permissions, metadata, rotation and trust list export."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials import keyring as keyring_module
from bot.credentials.keyring import KEYRING_FILE, KeyRing, KeyRingError, KeyStatus, SigningKey, kid_for
from bot.credentials.trust import parse_trust_list

NOW = datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)
LIFETIME = timedelta(hours=48)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _metadata(directory: Path) -> dict:
    return json.loads((directory / KEYRING_FILE).read_text(encoding="utf-8"))


def test_kid_is_base64url_of_first_8_bytes_of_sha256_of_raw_public_key() -> None:
    raw = bytes(range(32))
    expected = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:8]).decode().rstrip("=")
    assert kid_for(raw) == expected
    assert len(expected) == 11


def test_generate_writes_private_key_0600_and_metadata(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    signer = ring.current_signer()
    key_file = keys_dir / f"{signer.kid}.pem"

    assert _mode(key_file) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8
    entries = _metadata(keys_dir)["keys"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["kid"] == signer.kid == kid_for(signer.public_key_raw)
    assert entry["algorithm"] == "EdDSA"
    assert entry["status"] == "active"
    assert entry["not_after"] is None
    assert entry["not_before"] == entry["created_at"] == "2024-05-01T08:30:15+00:00"  # whole seconds


def test_private_key_file_is_never_world_readable_even_with_permissive_umask(keys_dir: Path) -> None:
    previous = os.umask(0)
    try:
        ring = KeyRing.generate(keys_dir, NOW)
    finally:
        os.umask(previous)
    assert _mode(keys_dir / f"{ring.current_signer().kid}.pem") == 0o600


def test_load_round_trips_the_signing_key(keys_dir: Path) -> None:
    generated = KeyRing.generate(keys_dir, NOW)
    loaded = KeyRing.load(keys_dir)
    assert loaded.current_signer().kid == generated.current_signer().kid
    message = b"signed by the loaded key"
    signature = loaded.current_signer().sign(message)
    generated.current_signer().private_key.public_key().verify(signature, message)  # raises if wrong


def test_load_refuses_group_or_world_readable_key_file(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    key_file = keys_dir / f"{ring.current_signer().kid}.pem"
    key_file.chmod(0o644)
    with pytest.raises(KeyRingError) as caught:
        KeyRing.load(keys_dir)
    assert str(key_file) in str(caught.value)
    assert "chmod 600" in str(caught.value)
    key_file.chmod(0o600)
    assert KeyRing.load(keys_dir).current_signer().kid == ring.current_signer().kid


def test_generate_refuses_when_keys_exist(keys_dir: Path) -> None:
    KeyRing.generate(keys_dir, NOW)
    with pytest.raises(KeyRingError, match="already exist"):
        KeyRing.generate(keys_dir, NOW)


@pytest.mark.parametrize("make_dir", [False, True], ids=["missing-directory", "empty-directory"])
def test_load_without_keys_names_directory_and_the_command(keys_dir: Path, make_dir: bool) -> None:
    if make_dir:
        keys_dir.mkdir()
    with pytest.raises(KeyRingError) as caught:
        KeyRing.load(keys_dir)
    assert str(keys_dir) in str(caught.value)
    assert "healthcode keys generate" in str(caught.value)


def test_ensure_creates_once_then_loads(keys_dir: Path) -> None:
    first = KeyRing.ensure(keys_dir, NOW)
    second = KeyRing.ensure(keys_dir, NOW + timedelta(days=1))
    assert second.current_signer().kid == first.current_signer().kid
    assert len(second.public_keys()) == 1


def test_rotate_retires_old_key_and_deletes_its_private_file(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    old_kid = ring.current_signer().kid
    rotated_at = NOW + timedelta(days=30)

    new_signer = ring.rotate(rotated_at, LIFETIME)

    assert new_signer.kid != old_kid
    assert ring.current_signer().kid == new_signer.kid
    by_kid = {key.kid: key for key in ring.public_keys()}
    assert by_kid[old_kid].status is KeyStatus.RETIRED
    assert by_kid[old_kid].not_after == rotated_at.replace(microsecond=0) + LIFETIME
    assert by_kid[new_signer.kid].status is KeyStatus.ACTIVE
    assert by_kid[new_signer.kid].not_before == rotated_at.replace(microsecond=0)
    assert not (keys_dir / f"{old_kid}.pem").exists()
    assert _mode(keys_dir / f"{new_signer.kid}.pem") == 0o600

    reloaded = KeyRing.load(keys_dir)
    assert reloaded.current_signer().kid == new_signer.kid
    assert {key.kid for key in reloaded.public_keys()} == {old_kid, new_signer.kid}


def test_export_keeps_old_key_until_its_last_credential_expires(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    old_kid = ring.current_signer().kid
    rotated_at = NOW + timedelta(days=30)
    new_kid = ring.rotate(rotated_at, LIFETIME).kid

    during = ring.export_trust_list("CN-330100", "杭州市", rotated_at + LIFETIME - timedelta(seconds=1), timedelta(days=7))
    after = ring.export_trust_list("CN-330100", "杭州市", rotated_at + LIFETIME, timedelta(days=7))

    assert [key["kid"] for key in during["keys"]] == [old_kid, new_kid]
    assert [key["kid"] for key in after["keys"]] == [new_kid]


def test_export_trust_list_has_the_documented_shape(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    exported = ring.export_trust_list("CN-330100", "杭州市", NOW, timedelta(days=7))
    assert exported["format"] == "healthcode-trust-list/1"
    assert exported["issuer"] == "CN-330100"
    assert exported["region"] == "杭州市"
    assert exported["issued_at"] == "2024-05-01T08:30:15+00:00"
    assert exported["next_update"] == "2024-05-08T08:30:15+00:00"
    (key,) = exported["keys"]
    assert key["alg"] == "EdDSA" and key["crv"] == "Ed25519"
    assert base64.urlsafe_b64decode(key["x"] + "=") == ring.current_signer().public_key_raw
    parsed = parse_trust_list(json.loads(json.dumps(exported)), "export")
    assert set(parsed.keys) == {ring.current_signer().kid}


def test_rotation_detects_kid_collision(keys_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    same_key = ring.current_signer().private_key
    monkeypatch.setattr(keyring_module, "_new_private_key", lambda: same_key)
    with pytest.raises(KeyRingError, match="collision"):
        ring.rotate(NOW + timedelta(days=1), LIFETIME)
    assert KeyRing.load(keys_dir).current_signer().kid == ring.current_signer().kid  # ring untouched


def test_load_detects_duplicate_kid_in_metadata(keys_dir: Path) -> None:
    KeyRing.generate(keys_dir, NOW)
    document = _metadata(keys_dir)
    duplicate = dict(document["keys"][0], status="retired", not_after="2024-06-01T00:00:00+00:00")
    document["keys"].append(duplicate)
    (keys_dir / KEYRING_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(KeyRingError, match="collision"):
        KeyRing.load(keys_dir)


def test_load_detects_kid_that_does_not_match_public_key(keys_dir: Path) -> None:
    KeyRing.generate(keys_dir, NOW)
    document = _metadata(keys_dir)
    document["keys"][0]["x"] = base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")
    (keys_dir / KEYRING_FILE).write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(KeyRingError, match=r"keys\[0\]\.kid"):
        KeyRing.load(keys_dir)


def test_load_detects_private_file_holding_another_key(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    key_file = keys_dir / f"{ring.current_signer().kid}.pem"
    other = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    key_file.unlink()
    keyring_module._write_private_key(keys_dir, other)
    (keys_dir / f"{other.kid}.pem").rename(key_file)
    with pytest.raises(KeyRingError, match="holds key"):
        KeyRing.load(keys_dir)


def test_load_reports_missing_private_key_file(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    (keys_dir / f"{ring.current_signer().kid}.pem").unlink()
    with pytest.raises(KeyRingError, match="missing"):
        KeyRing.load(keys_dir)


def test_load_reports_corrupt_metadata_with_file_name(keys_dir: Path) -> None:
    KeyRing.generate(keys_dir, NOW)
    (keys_dir / KEYRING_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(KeyRingError) as caught:
        KeyRing.load(keys_dir)
    assert KEYRING_FILE in str(caught.value)


def test_rotate_rejects_non_positive_lifetime(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    with pytest.raises(ValueError, match="max_credential_lifetime"):
        ring.rotate(NOW, timedelta(0))


def test_a_key_for_a_simulated_timeline_is_valid_before_its_creation(keys_dir: Path) -> None:
    """The shell's clock moves back (:today); its key must verify the cards of those earlier days."""
    early = datetime(1999, 12, 31, tzinfo=timezone.utc)
    ring = KeyRing.ensure(keys_dir, NOW, valid_from=early)
    (info,) = ring.public_keys()
    assert info.not_before == early and info.created_at == NOW.replace(microsecond=0)
    assert KeyRing.load(keys_dir).public_keys()[0].not_before == early  # kept on disk
    exported = ring.export_trust_list("CN-330100", "Hangzhou", NOW, timedelta(days=1))
    assert parse_trust_list(exported, "test").keys[info.kid].valid_at(datetime(2026, 3, 2, 1, tzinfo=timezone.utc))


def test_a_real_key_is_valid_from_its_creation_only(keys_dir: Path) -> None:
    (info,) = KeyRing.generate(keys_dir, NOW).public_keys()
    assert info.not_before == info.created_at == NOW.replace(microsecond=0)
    with pytest.raises(ValueError):
        KeyRing.generate(keys_dir.parent / "other", NOW, valid_from=NOW + timedelta(days=1))
    assert not (keys_dir.parent / "other").exists()


def test_a_rotation_published_ahead_is_handed_over_by_the_files_at_its_time(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    old_kid = ring.current_signer().kid
    rotated_at = NOW + timedelta(days=1)
    ahead = timedelta(minutes=60)
    new_kid = ring.rotate(rotated_at, LIFETIME, publish_ahead=ahead).kid
    switch = rotated_at.replace(microsecond=0) + ahead
    # The ring that rotated, and every process that loads the files before the switch, sign with the old key.
    assert ring.current_signer().kid == old_kid and ring.switch_at == switch
    during = KeyRing.load(keys_dir, switch - timedelta(seconds=1))
    assert during.current_signer().kid == old_kid and during.switch_at == switch
    assert {key.kid for key in during.public_keys()} == {old_kid, new_kid}  # both published meanwhile
    # A load without a time (listing, exporting) signs nothing and deletes nothing.
    assert KeyRing.load(keys_dir).current_signer().kid == new_kid and (keys_dir / f"{old_kid}.pem").exists()
    after = KeyRing.load(keys_dir, switch)
    assert after.current_signer().kid == new_kid and after.switch_at is None
    assert not (keys_dir / f"{old_kid}.pem").exists()  # a retired key never signs again
    assert {key.kid: key.not_before for key in after.public_keys()}[new_kid] == switch


def test_a_second_rotation_waits_for_the_first_hand_over(keys_dir: Path) -> None:
    ring = KeyRing.generate(keys_dir, NOW)
    ring.rotate(NOW, LIFETIME, publish_ahead=timedelta(minutes=60))
    with pytest.raises(KeyRingError, match="still being handed over"):
        KeyRing.load(keys_dir, NOW + timedelta(minutes=59)).rotate(NOW + timedelta(minutes=59), LIFETIME)
    with pytest.raises(ValueError, match="publish_ahead"):
        KeyRing.load(keys_dir, NOW + timedelta(minutes=60)).rotate(NOW, LIFETIME, publish_ahead=timedelta(-1))
    KeyRing.load(keys_dir, NOW + timedelta(minutes=60)).rotate(NOW + timedelta(minutes=60), LIFETIME)
