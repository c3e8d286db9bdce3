"""The issuer's Ed25519 signing keys, kept as files in a keys directory (never in the database).

Layout of the keys directory::

    keys/
      keyring.json          metadata of every key, public halves included (not secret)
      <kid>.pem             PKCS8 PEM private key of the ACTIVE key, mode 0600

``keyring.json``::

    {"format": "healthcode-keyring/1",
     "keys": [{"kid": "...", "algorithm": "EdDSA", "x": "<base64url raw public key>",
               "created_at": ISO8601, "not_before": ISO8601, "not_after": ISO8601 | null,
               "status": "active" | "retired"}]}

A kid is the base64url (no padding) of the first 8 bytes of SHA-256 over the raw 32-byte public key,
so it can be recomputed by anyone holding the key and a mismatch reveals a corrupted entry.

Rotation retires the active key: its ``not_after`` becomes "rotation time + longest credential
lifetime", so the public half stays published until the last credential it signed has expired.
A rotation may **publish ahead** (`healthcode keys rotate` does, by one trust-list refresh): the new
key's ``not_before`` is then that much later, and until then the retired key's private file stays and
it goes on signing, so other regions have fetched the new key before the first credential it signs
exists. Every process that loads the ring in that window (a worker restarted, a second machine)
signs with the same key as the others: the choice is in the files, not in a process's memory. Once
the new key's ``not_before`` has passed, a load deletes the retired private files: a retired key
never signs again.  All times are whole seconds because credential times are.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEYRING_FORMAT = "healthcode-keyring/1"
KEYRING_FILE = "keyring.json"
ALGORITHM = "EdDSA"
_KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{11}$")
# Our issuing policy: a credential expires at the end of the next local day, and never more than this
# after its issue (``bot.credentials.cwt.expiry_for``).  Verification refuses our own credentials that
# claim longer, and a retired key stays published this long after rotation.
MAX_CREDENTIAL_LIFETIME = timedelta(hours=48)
_GENERATE_HINT = "run `healthcode keys generate`"


class KeyRingError(Exception):
    """The keys directory is missing, unreadable, unsafe or inconsistent."""


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; raises ValueError on anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:  # unused trailing bits would make two spellings of one value
        raise ValueError("non-canonical base64url")
    return data


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kid_for(raw_public_key: bytes) -> str:
    return b64url_encode(hashlib.sha256(raw_public_key).digest()[:8])


def _whole_seconds(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("key ring times must be timezone-aware")
    return instant.astimezone(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key able to sign credentials, named by its kid."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> SigningKey:
        return cls(kid=kid_for(raw_public_bytes(private_key.public_key())), private_key=private_key)

    @property
    def kid_bytes(self) -> bytes:
        return b64url_decode(self.kid)

    @property
    def public_key_raw(self) -> bytes:
        return raw_public_bytes(self.private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data)


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    kid: str
    algorithm: str
    x: bytes  # raw 32-byte Ed25519 public key
    created_at: datetime
    not_before: datetime
    not_after: datetime | None
    status: KeyStatus

    def published_at(self, now: datetime) -> bool:
        """Whether the key still belongs in a trust list issued at ``now``."""
        return self.not_after is None or self.not_after > now

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "algorithm": self.algorithm,
            "x": b64url_encode(self.x),
            "created_at": self.created_at.isoformat(),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "status": self.status.value,
        }


def _new_private_key() -> Ed25519PrivateKey:
    # A seam for tests that need to force a kid collision.
    return Ed25519PrivateKey.generate()


class KeyRing:
    """The keys of one issuer, bound to a keys directory."""

    def __init__(self, directory: Path, keys: list[PublicKeyInfo], signer: SigningKey) -> None:
        self._directory = directory
        self._keys = keys
        self._signer = signer

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | str, now: datetime | None = None) -> KeyRing:
        """The ring in ``path``. With ``now`` (whoever signs), the signer is the one every process
        picks at that moment: the retiring key while a rotation publishes ahead, else the active key
        (and then the retired keys' private files are deleted). Without, the active key (listing,
        exporting: nothing is signed)."""
        directory = Path(path)
        if not directory.is_dir():
            raise KeyRingError(f"key directory {directory} does not exist; {_GENERATE_HINT}")
        metadata_path = directory / KEYRING_FILE
        if not metadata_path.is_file():
            raise KeyRingError(f"no keys in {directory} ({KEYRING_FILE} missing); {_GENERATE_HINT}")
        keys = _read_metadata(metadata_path)
        active = [key for key in keys if key.status is KeyStatus.ACTIVE]
        if len(active) != 1:
            raise KeyRingError(f"{metadata_path}: expected exactly one active key, found {len(active)}")
        if now is not None and now < active[0].not_before:
            handing_over = _retiring_signer(directory, keys)
            if handing_over is not None:
                return cls(directory, keys, handing_over)
        signer = _read_private_key(directory, active[0])
        if now is not None:
            _delete_retired_private_keys(directory, keys)
        return cls(directory, keys, signer)

    @classmethod
    def generate(cls, path: Path | str, now: datetime, *, valid_from: datetime | None = None) -> KeyRing:
        """A first key, created ``now`` and valid from then on.

        ``valid_from`` is for a simulated timeline only (the local shell, whose clock moves back and
        forth): the key then also verifies credentials issued at simulated times before its creation.
        A real issuer leaves it out: a key must not vouch for anything dated before it existed.
        """
        directory = Path(path)
        if (directory / KEYRING_FILE).exists() or any(directory.glob("*.pem")):
            raise KeyRingError(f"keys already exist in {directory}; refusing to overwrite them")
        created = _whole_seconds(now)
        not_before = created if valid_from is None else _whole_seconds(valid_from)
        if not_before > created:
            raise ValueError("valid_from must not be after the key's creation")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        signer = SigningKey.from_private_key(_new_private_key())
        info = _active_info(signer, created, not_before)
        _write_private_key(directory, signer)
        _write_metadata(directory / KEYRING_FILE, [info])
        return cls(directory, [info], signer)

    @classmethod
    def ensure(cls, path: Path | str, now: datetime, *, valid_from: datetime | None = None) -> KeyRing:
        """Load the key ring, creating a first key if the directory holds none (local shell)."""
        directory = Path(path)
        if (directory / KEYRING_FILE).exists():
            return cls.load(directory, now)
        return cls.generate(directory, now, valid_from=valid_from)

    # -- use ----------------------------------------------------------------------------------

    @property
    def directory(self) -> Path:
        return self._directory

    def current_signer(self) -> SigningKey:
        return self._signer

    def public_keys(self) -> list[PublicKeyInfo]:
        return list(self._keys)

    @property
    def switch_at(self) -> datetime | None:
        """When the active key starts signing, if a retiring key still signs until then."""
        active = next(key for key in self._keys if key.status is KeyStatus.ACTIVE)
        return active.not_before if self._signer.kid != active.kid else None

    def rotate(self, now: datetime, max_credential_lifetime: timedelta, *,
               publish_ahead: timedelta = timedelta(0)) -> SigningKey:
        """Retire the active key for a new one; returns the new key. With ``publish_ahead`` the new key
        signs from ``now + publish_ahead`` and the old one goes on signing until then."""
        if max_credential_lifetime <= timedelta(0):
            raise ValueError("max_credential_lifetime must be positive")
        if publish_ahead < timedelta(0):
            raise ValueError("publish_ahead must not be negative")
        rotated_at = _whole_seconds(now)
        if self.switch_at is not None:
            raise KeyRingError(f"a rotation is still being handed over: {self._signer.kid} signs until "
                               f"{self.switch_at.isoformat()}; rotate again after that")
        new_signer = SigningKey.from_private_key(_new_private_key())
        if any(key.kid == new_signer.kid for key in self._keys):
            raise KeyRingError(f"kid collision: new key {new_signer.kid} matches an existing key in {self._directory}")
        retired = [
            replace(key, status=KeyStatus.RETIRED, not_after=rotated_at + max_credential_lifetime)
            if key.status is KeyStatus.ACTIVE
            else key
            for key in self._keys
        ]
        signs_from = rotated_at + _whole_seconds_delta(publish_ahead)
        keys = [*retired, _active_info(new_signer, rotated_at, signs_from)]
        old_signer = self._signer
        # New private key first, then metadata: a crash in between leaves the old ring intact.
        _write_private_key(self._directory, new_signer)
        _write_metadata(self._directory / KEYRING_FILE, keys)
        if signs_from == rotated_at:
            _private_key_path(self._directory, old_signer.kid).unlink(missing_ok=True)
            self._signer = new_signer
        self._keys = keys
        return new_signer

    def export_trust_list(
        self, issuer: str, region_name: str, now: datetime, validity: timedelta
    ) -> dict[str, Any]:
        """This issuer's trust list (format in bot.credentials.trust), listing every key still published."""
        if validity <= timedelta(0):
            raise ValueError("trust list validity must be positive")
        issued_at = _whole_seconds(now)
        return {
            "format": "healthcode-trust-list/1",
            "issuer": issuer,
            "region": region_name,
            "issued_at": issued_at.isoformat(),
            "next_update": (issued_at + validity).isoformat(),
            "keys": [
                {
                    "kid": key.kid,
                    "alg": key.algorithm,
                    "crv": "Ed25519",
                    "x": b64url_encode(key.x),
                    "not_before": key.not_before.isoformat(),
                    "not_after": key.not_after.isoformat() if key.not_after else None,
                }
                for key in self._keys
                if key.published_at(issued_at)
            ],
        }


# -- files ------------------------------------------------------------------------------------


def _active_info(signer: SigningKey, created: datetime, not_before: datetime | None = None) -> PublicKeyInfo:
    return PublicKeyInfo(
        kid=signer.kid,
        algorithm=ALGORITHM,
        x=signer.public_key_raw,
        created_at=created,
        not_before=created if not_before is None else not_before,
        not_after=None,
        status=KeyStatus.ACTIVE,
    )


def _whole_seconds_delta(delta: timedelta) -> timedelta:
    return timedelta(seconds=int(delta.total_seconds()))


def _retiring_signer(directory: Path, keys: list[PublicKeyInfo]) -> SigningKey | None:
    """The newest retired key whose private file is still there: the one that signs until the switch."""
    for info in sorted((k for k in keys if k.status is KeyStatus.RETIRED), key=lambda k: k.created_at, reverse=True):
        if _private_key_path(directory, info.kid).exists():
            return _read_private_key(directory, info)
    return None


def _delete_retired_private_keys(directory: Path, keys: list[PublicKeyInfo]) -> None:
    for info in keys:
        if info.status is KeyStatus.RETIRED:
            _private_key_path(directory, info.kid).unlink(missing_ok=True)


def _private_key_path(directory: Path, kid: str) -> Path:
    if not _KID_PATTERN.fullmatch(kid):  # kids become file names: keep them inside the directory
        raise KeyRingError(f"invalid kid {kid!r} in {directory / KEYRING_FILE}")
    return directory / f"{kid}.pem"


def _write_private_key(directory: Path, signer: SigningKey) -> None:
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = _private_key_path(directory, signer.kid)
    # O_EXCL + 0o600 at creation: the key is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _read_private_key(directory: Path, info: PublicKeyInfo) -> SigningKey:
    path = _private_key_path(directory, info.kid)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyRingError(f"private key file {path} for signing key {info.kid} is missing") from None
    if mode & 0o077:
        raise KeyRingError(
            f"private key file {path} is accessible by group/others (mode {stat.S_IMODE(mode):04o}); "
            f"fix it with `chmod 600 {path}`"
        )
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as error:
        raise KeyRingError(f"private key file {path} is not an unencrypted PKCS8 PEM key: {error}") from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyRingError(f"private key file {path} is not an Ed25519 key")
    signer = SigningKey.from_private_key(private_key)
    if signer.kid != info.kid:
        raise KeyRingError(f"private key file {path} holds key {signer.kid}, not {info.kid}")
    return signer


def _write_metadata(path: Path, keys: list[PublicKeyInfo]) -> None:
    document = {"format": KEYRING_FORMAT, "keys": [key.to_json() for key in keys]}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)  # atomic: readers see the old or the new ring, never half


def _read_metadata(path: Path) -> list[PublicKeyInfo]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyRingError(f"{path}: cannot read key ring metadata: {error}") from None
    if not isinstance(document, dict) or document.get("format") != KEYRING_FORMAT:
        raise KeyRingError(f"{path}: field 'format' must be {KEYRING_FORMAT!r}")
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise KeyRingError(f"{path}: field 'keys' must be a non-empty list")
    keys = [_parse_entry(entry, f"{path}: keys[{index}]") for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for key in keys:
        if key.kid in seen:
            raise KeyRingError(f"{path}: kid collision, {key.kid} is listed twice")
        seen.add(key.kid)
    return keys


def _parse_entry(entry: Any, where: str) -> PublicKeyInfo:
    if not isinstance(entry, dict):
        raise KeyRingError(f"{where} must be an object")
    try:
        x = b64url_decode(_text(entry, "x", where))
    except ValueError:
        raise KeyRingError(f"{where}.x is not base64url") from None
    kid = _text(entry, "kid", where)
    if len(x) != 32 or kid_for(x) != kid:
        raise KeyRingError(f"{where}.kid {kid!r} does not match its public key x")
    if entry.get("algorithm") != ALGORITHM:
        raise KeyRingError(f"{where}.algorithm must be {ALGORITHM!r}")
    try:
        status = KeyStatus(entry.get("status"))  # type: ignore[arg-type]  # any JSON value: the enum refuses the rest
    except ValueError:
        raise KeyRingError(f"{where}.status must be 'active' or 'retired'") from None
    not_after = None if entry.get("not_after") is None else _time(entry, "not_after", where)
    return PublicKeyInfo(
        kid=kid,
        algorithm=ALGORITHM,
        x=x,
        created_at=_time(entry, "created_at", where),
        not_before=_time(entry, "not_before", where),
        not_after=not_after,
        status=status,
    )


def _text(entry: dict[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value:
        raise KeyRingError(f"{where}.{name} must be a non-empty string")
    return value


def parse_utc_instant(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset, as UTC; ValueError says which of the two it is not.
    The key ring and trust lists both store their times this way."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 time: {text!r}") from None
    if instant.tzinfo is None:
        raise ValueError(f"must carry a UTC offset: {text!r}")
    return instant.astimezone(timezone.utc)


def _time(entry: dict[str, Any], name: str, where: str) -> datetime:
    try:
        return parse_utc_instant(_text(entry, name, where))
    except ValueError as error:
        raise KeyRingError(f"{where}.{name} {error}") from None
