"""Field-level encryption so that personal data is never stored in clear.

One 32-byte master key is split with HKDF-SHA256 into independent subkeys: one
for AES-256-GCM sealing and one for HMAC-SHA256 blind indexes. Keeping them
separate means an index value can never help an attacker against the AEAD key.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import DecryptionError

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
BLIND_INDEX_BYTES = 32
_VERSION_1 = b"\x01"
_AEAD_INFO = b"healthcode/field-aead/v1"
_INDEX_INFO = b"healthcode/blind-index/v1"
_KEY_CHECK_INFO = b"healthcode/key-check/v1"
_KEY_CHECK_LABEL = b"healthcode data key check"


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master_key)


def _length_prefixed(part: bytes) -> bytes:
    # Unambiguous framing: ("ab", "c") and ("a", "bc") must not collide.
    return len(part).to_bytes(4, "big") + part


class FieldCipher:
    """Seals and opens individual column values; computes blind indexes."""

    __slots__ = ("_aead", "_index_key", "_key_check")

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, (bytes, bytearray)):
            raise TypeError("master_key: must be bytes")
        if len(master_key) != MASTER_KEY_BYTES:
            raise ValueError(
                f"master_key: must be exactly {MASTER_KEY_BYTES} bytes, got {len(master_key)}"
            )
        self._aead = AESGCM(_derive(bytes(master_key), _AEAD_INFO))
        self._index_key = _derive(bytes(master_key), _INDEX_INFO)
        # Its own subkey: the stored check value can help nobody against the AEAD or index keys.
        self._key_check = hmac.new(_derive(bytes(master_key), _KEY_CHECK_INFO), _KEY_CHECK_LABEL,
                                   hashlib.sha256).digest()

    def key_check_value(self) -> bytes:
        """HMAC-SHA256 of a fixed label under a subkey of the master key: equal values, equal keys."""
        return self._key_check

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` (e.g. table, column and row identity).

        Layout: version (1 byte) | nonce (12 bytes) | ciphertext | tag (16 bytes).
        The version byte is authenticated too, so it cannot be swapped.
        """
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, _VERSION_1 + context)
        return _VERSION_1 + nonce + sealed

    def open(self, blob: bytes, context: bytes) -> bytes:
        """Decrypt a value from :meth:`seal`; raise DecryptionError if anything is off."""
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("sealed field: too short to be a sealed value")
        version = blob[:1]
        if version != _VERSION_1:
            raise DecryptionError(f"sealed field: unknown format version {version[0]}")
        nonce = blob[1 : 1 + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[1 + NONCE_BYTES :], version + context)
        except InvalidTag:
            raise DecryptionError(
                "sealed field: authentication failed (wrong key, wrong context or tampered data)"
            ) from None

    def blind_index(self, value: str, purpose: str) -> bytes:
        """A keyed, deterministic 32-byte digest for equality lookups without plaintext."""
        message = _length_prefixed(purpose.encode()) + _length_prefixed(value.encode())
        return hmac.new(self._index_key, message, hashlib.sha256).digest()
