"""FieldCipher: AEAD round trip, context binding, tamper detection, blind indexes."""
from __future__ import annotations

import hashlib
import hmac
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.encryption import FieldCipher
from storage.errors import DecryptionError

KEY = bytes(range(32))


def test_seal_then_open_returns_the_plaintext() -> None:
    cipher = FieldCipher(KEY)
    blob = cipher.seal("110105199003071234".encode(), b"users.resident_id:abc")
    assert cipher.open(blob, b"users.resident_id:abc") == b"110105199003071234"


def test_sealed_layout_is_version_nonce_ciphertext_tag() -> None:
    blob = FieldCipher(KEY).seal(b"hello", b"ctx")
    assert blob[0] == 1
    assert len(blob) == 1 + 12 + len(b"hello") + 16
    assert b"hello" not in blob


def test_each_seal_uses_a_fresh_nonce() -> None:
    cipher = FieldCipher(KEY)
    first, second = cipher.seal(b"same", b"ctx"), cipher.seal(b"same", b"ctx")
    assert first[1:13] != second[1:13]
    assert first != second


def test_empty_plaintext_round_trips() -> None:
    cipher = FieldCipher(KEY)
    assert cipher.open(cipher.seal(b"", b"ctx"), b"ctx") == b""


def test_wrong_context_is_rejected() -> None:
    cipher = FieldCipher(KEY)
    blob = cipher.seal(b"secret", b"users.name:alice")
    with pytest.raises(DecryptionError, match="authentication failed"):
        cipher.open(blob, b"users.name:bob")


def test_wrong_key_is_rejected() -> None:
    blob = FieldCipher(KEY).seal(b"secret", b"ctx")
    with pytest.raises(DecryptionError):
        FieldCipher(os.urandom(32)).open(blob, b"ctx")


@pytest.mark.parametrize("position", [1, 5, 12, 13, 14, -1, -16])
def test_any_flipped_byte_is_detected(position: int) -> None:
    cipher = FieldCipher(KEY)
    blob = bytearray(cipher.seal(b"a sensitive value", b"ctx"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.open(bytes(blob), b"ctx")


def test_truncated_blob_is_rejected() -> None:
    cipher = FieldCipher(KEY)
    blob = cipher.seal(b"value", b"ctx")
    with pytest.raises(DecryptionError, match="too short"):
        cipher.open(blob[:20], b"ctx")
    with pytest.raises(DecryptionError):
        cipher.open(blob[:-1], b"ctx")


def test_unknown_version_is_rejected() -> None:
    cipher = FieldCipher(KEY)
    blob = cipher.seal(b"value", b"ctx")
    with pytest.raises(DecryptionError, match="version 2"):
        cipher.open(b"\x02" + blob[1:], b"ctx")


def test_the_master_key_is_not_used_directly_for_sealing() -> None:
    blob = FieldCipher(KEY).seal(b"value", b"ctx")
    with pytest.raises(InvalidTag):
        AESGCM(KEY).decrypt(blob[1:13], blob[13:], b"\x01ctx")


@pytest.mark.parametrize("bad", [b"", b"short", bytes(31), bytes(33)])
def test_master_key_must_be_32_bytes(bad: bytes) -> None:
    with pytest.raises(ValueError, match=f"master_key: must be exactly 32 bytes, got {len(bad)}"):
        FieldCipher(bad)


def test_master_key_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="master_key"):
        FieldCipher("k" * 32)  # type: ignore[arg-type]


def test_blind_index_is_deterministic_and_32_bytes() -> None:
    cipher = FieldCipher(KEY)
    first = cipher.blind_index("13800000000", "users.phone")
    assert first == FieldCipher(KEY).blind_index("13800000000", "users.phone")
    assert len(first) == 32


def test_blind_index_differs_by_value_purpose_and_key() -> None:
    cipher = FieldCipher(KEY)
    base = cipher.blind_index("13800000000", "users.phone")
    assert cipher.blind_index("13800000001", "users.phone") != base
    assert cipher.blind_index("13800000000", "users.resident_id") != base
    assert FieldCipher(os.urandom(32)).blind_index("13800000000", "users.phone") != base


def test_blind_index_framing_prevents_purpose_value_collisions() -> None:
    cipher = FieldCipher(KEY)
    assert cipher.blind_index("c", "ab") != cipher.blind_index("bc", "a")


def test_blind_index_is_not_a_plain_hash_or_keyed_with_the_master_key() -> None:
    digest = FieldCipher(KEY).blind_index("13800000000", "users.phone")
    assert digest != hashlib.sha256(b"13800000000").digest()
    for message in (b"13800000000", b"users.phone13800000000"):
        assert digest != hmac.new(KEY, message, hashlib.sha256).digest()
