"""Trust lists: which issuers' credentials this server accepts, and with which public keys.

Format ``healthcode-trust-list/1`` (one JSON object per issuer, published by that issuer)::

    {
      "format": "healthcode-trust-list/1",
      "issuer": "CN-330100",                      # issuer id, equal to the credentials' iss claim
      "region": "杭州市",                          # display name of the issuing region
      "issued_at": "2024-05-01T00:00:00+00:00",   # ISO 8601 with UTC offset
      "next_update": "2024-05-08T00:00:00+00:00", # the issuer promises a fresh list by then
      "keys": [
        {"kid": "3q2-7wAAAAA",                    # base64url(SHA-256(x)[:8]), checked on load
         "alg": "EdDSA", "crv": "Ed25519",
         "x": "<base64url, no padding, raw 32-byte public key>",
         "not_before": "2024-05-01T00:00:00+00:00",
         "not_after": null}                       # null while the key signs; set at rotation
      ]
    }

A key verifies a credential only if the credential's ``iat`` lies in [not_before, not_after).

Issuer ids are ASCII with one grammar, :data:`ISSUER_ID_PATTERN`: two capital letters (the country),
optionally a dash and 1-12 capitals or digits (``CN-330100``, ``DE-BY``, ``NZ``).  A list, a
revocation list or a credential naming anything else is refused, so no issuer can differ from
another by case, spaces or invisible characters alone.

A credential from a list's issuer may live at most :data:`FOREIGN_MAX_LIFETIME` (exp - iat); our
own issuer's at most our policy, ``bot.credentials.keyring.MAX_CREDENTIAL_LIFETIME``.

Staleness: a list whose ``next_update + grace`` has passed is *stale*.  Its credentials are still
verified (dropping the list would turn every citizen of that region away), but every result carries
the warning ``stale_trust_list`` and :meth:`TrustStore.stale_issuers` reports it, so an operator sees it.
Our own issuer's keys (:meth:`TrustStore.add_own`) come from the local key ring and never go stale.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bot.credentials.keyring import ALGORITHM, MAX_CREDENTIAL_LIFETIME, b64url_decode, kid_for, parse_utc_instant

if TYPE_CHECKING:
    from bot.credentials.keyring import KeyRing

TRUST_LIST_FORMAT = "healthcode-trust-list/1"
CURVE = "Ed25519"
ISSUER_ID_PATTERN = re.compile(r"[A-Z]{2}(-[0-9A-Z]{1,12})?")
ISSUER_ID_RULE = "two capital letters, optionally '-' and 1-12 capital letters or digits, such as CN-330100"
# Health codes last a day or two; a week covers any other issuer's policy, and an authentic credential
# claiming longer (an issuer's bug or a misused key) is refused rather than honoured for years.
FOREIGN_MAX_LIFETIME = timedelta(days=7)
# Our own printed codes (bot.services.paper_code: HEALTHCODE_PAPER_DAYS, at most 14) live longest.
OWN_MAX_LIFETIME = max(MAX_CREDENTIAL_LIFETIME, timedelta(days=14))


def is_issuer_id(value: object) -> bool:
    return isinstance(value, str) and ISSUER_ID_PATTERN.fullmatch(value) is not None


def imitates(issuer: str, own: str) -> bool:
    """Whether ``issuer`` is not ``own`` but would read as it: equal once case, spaces, invisible
    characters and compatibility forms (full-width letters) are set aside."""
    return issuer != own and _skeleton(issuer) == _skeleton(own)


def _skeleton(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Drop separators (Z*), controls and format characters (C*: zero-width, BOM, soft hyphen) and marks.
    return "".join(char for char in folded if unicodedata.category(char)[0] not in "ZCM")


class TrustListError(Exception):
    """A trust list is malformed; the message names its source and the offending field."""


@dataclass(frozen=True, slots=True)
class TrustedKey:
    kid: str
    public_key: Ed25519PublicKey
    x: bytes
    not_before: datetime
    not_after: datetime | None

    def valid_at(self, instant: datetime) -> bool:
        return self.not_before <= instant and (self.not_after is None or instant < self.not_after)


@dataclass(frozen=True, slots=True)
class TrustList:
    issuer: str
    region: str
    issued_at: datetime
    next_update: datetime | None  # None: our own key ring, always current
    keys: Mapping[str, TrustedKey]
    source: str
    max_lifetime: timedelta = FOREIGN_MAX_LIFETIME  # the longest exp - iat accepted from this issuer

    def is_stale(self, now: datetime, grace: timedelta) -> bool:
        return self.next_update is not None and self.next_update + grace < now


def parse_trust_list(data: Any, source: str, *, own_issuer: str | None = None) -> TrustList:
    """Validate one trust list document; errors name ``source`` and the field.

    With ``own_issuer``, a list whose issuer would read as ours is refused with that reason.
    """
    if not isinstance(data, dict):
        raise TrustListError(f"{source}: a trust list must be a JSON object")
    if data.get("format") != TRUST_LIST_FORMAT:
        raise TrustListError(f"{source}: field 'format' must be {TRUST_LIST_FORMAT!r}, got {data.get('format')!r}")
    issuer = parse_issuer_id(data.get("issuer"), source, own_issuer=own_issuer)
    issued_at = _time(data, "issued_at", source)
    next_update = _time(data, "next_update", source)
    if next_update <= issued_at:
        raise TrustListError(f"{source}: field 'next_update' must be after 'issued_at'")
    entries = data.get("keys")
    if not isinstance(entries, list) or not entries:
        raise TrustListError(f"{source}: field 'keys' must be a non-empty list")
    keys: dict[str, TrustedKey] = {}
    for index, entry in enumerate(entries):
        key = _parse_key(entry, f"{source}: keys[{index}]")
        if key.kid in keys:
            raise TrustListError(f"{source}: keys[{index}]: field 'kid' {key.kid!r} is listed twice")
        keys[key.kid] = key
    return TrustList(
        issuer=issuer,
        region=_text(data, "region", source),
        issued_at=issued_at,
        next_update=next_update,
        keys=keys,
        source=source,
    )


def parse_issuer_id(value: Any, where: str, *, own_issuer: str | None = None) -> str:
    """``value`` as an issuer id, or TrustListError naming ``where`` (the id spelled in ASCII, so that
    an invisible character shows)."""
    if own_issuer is not None and isinstance(value, str) and imitates(value, own_issuer):
        raise TrustListError(
            f"{where}: field 'issuer' {ascii(value)} would pass for our own issuer {own_issuer} (it differs only "
            f"by case, spaces or invisible characters); refusing the list"
        )
    if not is_issuer_id(value):
        shown = ascii(value) if isinstance(value, str) else type(value).__name__
        raise TrustListError(f"{where}: field 'issuer' must be an issuer id ({ISSUER_ID_RULE}), got {shown}")
    return value


def read_trust_list_file(path: Path | str, *, own_issuer: str | None = None) -> TrustList:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TrustListError(f"{path}: cannot read trust list: {error}") from None
    return parse_trust_list(data, str(path), own_issuer=own_issuer)


class TrustStore:
    """Issuers this server trusts, each with its keys and the list they came from."""

    def __init__(self, grace: timedelta = timedelta(0)) -> None:
        self._lists: dict[str, TrustList] = {}
        self._grace = grace
        self._loaded_at: datetime | None = None

    @classmethod
    def from_lists(cls, lists: Iterable[Any], now: datetime, grace: timedelta) -> TrustStore:
        """Build a store from trust list documents (dicts) or already parsed :class:`TrustList`.

        When two lists name the same issuer, the more recently issued one wins.  ``now`` is
        kept as :attr:`loaded_at` for operators' status listings.
        """
        store = cls(grace)
        store._loaded_at = now
        for index, item in enumerate(lists):
            parsed = item if isinstance(item, TrustList) else parse_trust_list(item, f"trust list #{index}")
            current = store._lists.get(parsed.issuer)
            if current is None or parsed.issued_at > current.issued_at:
                store._lists[parsed.issuer] = parsed
        return store

    @property
    def grace(self) -> timedelta:
        return self._grace

    @property
    def loaded_at(self) -> datetime | None:
        return self._loaded_at

    def add_own(self, keyring: KeyRing, issuer: str, region: str) -> None:
        """Trust our own key ring for ``issuer`` (replacing any loaded list for it).

        A snapshot: call again after rotating keys in the same process.
        """
        keys = {
            info.kid: TrustedKey(
                kid=info.kid,
                public_key=Ed25519PublicKey.from_public_bytes(info.x),
                x=info.x,
                not_before=info.not_before,
                not_after=info.not_after,
            )
            for info in keyring.public_keys()
        }
        issued_at = min(info.created_at for info in keyring.public_keys())
        self._lists[issuer] = TrustList(
            issuer=issuer, region=region, issued_at=issued_at, next_update=None, keys=keys, source="own key ring",
            max_lifetime=OWN_MAX_LIFETIME,
        )

    def issuers(self) -> list[str]:
        return sorted(self._lists)

    def trust_list(self, issuer: str) -> TrustList | None:
        return self._lists.get(issuer)

    def key(self, issuer: str, kid: str) -> TrustedKey | None:
        trust_list = self._lists.get(issuer)
        return None if trust_list is None else trust_list.keys.get(kid)

    def is_stale(self, issuer: str, now: datetime) -> bool:
        trust_list = self._lists.get(issuer)
        return trust_list is not None and trust_list.is_stale(now, self._grace)

    def stale_issuers(self, now: datetime) -> list[str]:
        return [issuer for issuer in self.issuers() if self.is_stale(issuer, now)]


def _parse_key(entry: Any, where: str) -> TrustedKey:
    if not isinstance(entry, dict):
        raise TrustListError(f"{where} must be an object")
    if entry.get("alg") != ALGORITHM:
        raise TrustListError(f"{where}: field 'alg' must be {ALGORITHM!r}, got {entry.get('alg')!r}")
    if entry.get("crv") != CURVE:
        raise TrustListError(f"{where}: field 'crv' must be {CURVE!r}, got {entry.get('crv')!r}")
    try:
        x = b64url_decode(_text(entry, "x", where))
    except ValueError:
        raise TrustListError(f"{where}: field 'x' must be base64url without padding") from None
    if len(x) != 32:
        raise TrustListError(f"{where}: field 'x' must be a 32-byte Ed25519 public key, got {len(x)} bytes")
    kid = _text(entry, "kid", where)
    if kid != kid_for(x):
        raise TrustListError(f"{where}: field 'kid' {kid!r} does not match its key x (expected {kid_for(x)!r})")
    not_before = _time(entry, "not_before", where)
    not_after = None if entry.get("not_after") is None else _time(entry, "not_after", where)
    if not_after is not None and not_after <= not_before:
        raise TrustListError(f"{where}: field 'not_after' must be after 'not_before'")
    return TrustedKey(
        kid=kid,
        public_key=Ed25519PublicKey.from_public_bytes(x),
        x=x,
        not_before=not_before,
        not_after=not_after,
    )


def _text(data: dict[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise TrustListError(f"{where}: field '{name}' must be a non-empty string")
    return value


def _time(data: dict[str, Any], name: str, where: str) -> datetime:
    try:
        return parse_utc_instant(_text(data, name, where))
    except ValueError as error:
        raise TrustListError(f"{where}: field '{name}' {error}") from None
