"""Write the conformance vectors in tests/vectors/cases/v1/ and v2/ (deterministic: fixed keys, times, ids).

    python tests/vectors/generate.py

Ed25519 signatures are deterministic, so running it again gives the same files.  The vectors are
a fixed reference for other implementations: regenerate only when the format itself changes, and
then as a new version beside the old ones.

- v1 (``healthcode-conformance-vector/1``): tokens in base64url, 10-byte cti: what was issued before
  the compact form; verifiers still accept it.
- v2 (``healthcode-conformance-vector/2``): tokens in base32 (RFC 4648, upper case, no padding),
  8-byte cti, and the URL the QR code holds (``qr_url``): what is issued now.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout

from bot.credentials.cwt import encode_token, issue_credential, token_bytes  # noqa: E402
from bot.services.verification import credential_url  # noqa: E402
from bot.credentials.keyring import SigningKey, b64url_encode  # noqa: E402
from rules.model import Colour  # noqa: E402

CASES = Path(__file__).resolve().parent / "cases"
VERSIONS = (1, 2)
VECTOR_FORMAT = "healthcode-conformance-vector/{version}"
PUBLIC_URL = "https://verify.example.cn"  # the v2 cases' qr_url
_version = 2  # the encoding being written: build() sets it
ISSUER, REGION = "CN-330100", "杭州市"
OTHER_ISSUER, OTHER_REGION = "CN-440300", "深圳市"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 in Hangzhou
LIFETIME = timedelta(hours=39)  # issue at 09:00 local, expire at local midnight two days on
GRACE_HOURS = 24


def _key(label: str) -> SigningKey:
    seed = hashlib.sha256(f"healthcode conformance vector key: {label}".encode()).digest()
    return SigningKey.from_private_key(Ed25519PrivateKey.from_private_bytes(seed))


def _cti(label: str) -> bytes:
    length = 10 if _version == 1 else 8
    return hashlib.sha256(f"healthcode conformance vector cti: {label}".encode()).digest()[:length]


A1, A2, STRANGER, OTHER = _key("issuer A key 1"), _key("issuer A key 2"), _key("not listed"), _key("issuer B")


def _iso(instant: datetime) -> str:
    return instant.isoformat()


def _trust_list(issuer: str, region: str, keys: list[tuple[SigningKey, datetime, datetime | None]],
                issued_at: datetime = T0 - timedelta(days=1), validity: timedelta = timedelta(days=7)) -> dict[str, Any]:
    return {
        "format": "healthcode-trust-list/1",
        "issuer": issuer,
        "region": region,
        "issued_at": _iso(issued_at),
        "next_update": _iso(issued_at + validity),
        "keys": [
            {"kid": key.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(key.public_key_raw),
             "not_before": _iso(not_before), "not_after": _iso(not_after) if not_after else None}
            for key, not_before, not_after in keys
        ],
    }


A_LIST = _trust_list(ISSUER, REGION, [(A1, T0 - timedelta(days=30), None)])


def _credential(signer: SigningKey, label: str, *, issuer: str = ISSUER, colour: Colour = Colour.GREEN,
                iat: datetime = T0, subject: str | None = None) -> str:
    token = issue_credential(signer, issuer=issuer, subject=subject, colour=colour, issued_at=iat,
                             expires_at=iat + LIFETIME, cti=_cti(label)).token
    return _token_text(token_bytes(token))


def _resigned(signer: SigningKey, label: str, **claims: Any) -> str:
    """A credential with claims no issuer would write (``iat=``, ``exp=`` as Unix seconds), signed properly."""
    parts = _parts(_credential(signer, label))
    payload = cbor2.loads(parts[2])
    payload.update({{"iat": 6, "exp": 4}[name]: value for name, value in claims.items()})
    parts[2] = cbor2.dumps(payload, canonical=True)
    parts[3] = signer.sign(cbor2.dumps(["Signature1", parts[0], b"", parts[2]]))
    return _token(parts)


def _parts(token: str) -> list[Any]:
    return list(cbor2.loads(token_bytes(token)).value)


def _token(parts: list[Any]) -> str:
    return _token_text(cbor2.dumps(cbor2.CBORTag(18, parts), canonical=True))


def _token_text(raw: bytes) -> str:
    return b64url_encode(raw) if _version == 1 else encode_token(raw)


def _expected(valid: bool, reason: str | None, *, kid: str | None, issuer: str | None = ISSUER,
              colour: str | None = "green", iat: datetime | None = T0, lifetime: timedelta = LIFETIME,
              warnings: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "valid": valid,
        "reason": reason,
        "colour": colour,
        "issuer": issuer,
        "kid": kid,
        "iat": _iso(iat) if iat else None,
        "exp": _iso(iat + lifetime) if iat else None,
        "warnings": list(warnings),
    }


UNREADABLE = dict(kid=None, issuer=None, colour=None, iat=None)


def _case(name: str, description: str, credential: str, expected: dict[str, Any], *, now: datetime,
          trust_lists: list[dict[str, Any]] | None = None, revocation_lists: list[dict[str, Any]] | None = None,
          ) -> dict[str, Any]:
    case = {
        "format": VECTOR_FORMAT.format(version=_version),
        "name": name,
        "description": description,
        "now": _iso(now),
        "trust_list_grace_hours": GRACE_HOURS,
        "trust_lists": trust_lists if trust_lists is not None else [A_LIST],
        "revocation_lists": revocation_lists or [],
        "credential": credential,
    }
    if _version >= 2:
        case["qr_url"] = credential_url(PUBLIC_URL, credential)
    case["expected"] = expected
    return case


def build(version: int = 2) -> list[dict[str, Any]]:
    """The cases of one vector version."""
    global _version
    _version = version
    return _build()


def _build() -> list[dict[str, Any]]:
    valid = _credential(A1, "valid")
    later = T0 + timedelta(hours=1)
    cases = [
        _case("valid", "A green credential, signed by the issuer's listed key, checked an hour after issue.",
              valid, _expected(True, None, kid=A1.kid), now=later),
        _case("expired", "The same kind of credential, checked a minute after its exp.",
              _credential(A1, "expired"), _expected(False, "expired", kid=A1.kid),
              now=T0 + LIFETIME + timedelta(minutes=1)),
        _case("not_yet_valid", "iat is an hour after the verifier's clock (more than the 2-minute allowed skew).",
              _credential(A1, "not_yet_valid", iat=later), _expected(False, "not_yet_valid", kid=A1.kid, iat=later),
              now=T0),
    ]
    parts = _parts(_credential(A1, "payload_tampered", colour=Colour.RED))
    claims = cbor2.loads(parts[2])
    claims[-65537] = "green"  # red turned green after signing
    parts[2] = cbor2.dumps(claims, canonical=True)
    cases.append(_case("payload_tampered", "The colour claim was changed from red to green after signing.",
                       _token(parts), _expected(False, "signature_invalid", kid=A1.kid, colour=None, iat=None),
                       now=later))
    parts = _parts(_credential(A1, "signature_tampered"))
    parts[3] = bytes([parts[3][0] ^ 0x01]) + parts[3][1:]
    cases.append(_case("signature_tampered", "One bit of the signature was flipped.",
                       _token(parts), _expected(False, "signature_invalid", kid=A1.kid, colour=None, iat=None),
                       now=later))
    cases.append(_case("unknown_kid", "Claims the trusted issuer but is signed with a key (kid) its list does not hold.",
                       _credential(STRANGER, "unknown_kid"),
                       _expected(False, "unknown_key", kid=STRANGER.kid, colour=None, iat=None), now=later))
    cases.append(_case("wrong_issuer", "Validly signed by another issuer, whose trust list the verifier does not hold.",
                       _credential(OTHER, "wrong_issuer", issuer=OTHER_ISSUER),
                       _expected(False, "unknown_issuer", kid=OTHER.kid, issuer=OTHER_ISSUER, colour=None, iat=None),
                       now=later))
    revoked = _credential(A1, "revoked")
    cases.append(_case("revoked", "A valid credential whose cti is in the issuer's revocation list.",
                       revoked, _expected(False, "revoked", kid=A1.kid), now=later,
                       revocation_lists=[{"format": "healthcode-revocation-list/1", "issuer": ISSUER,
                                          "issued_at": _iso(later),
                                          "revoked": [{"cti": _cti("revoked").hex(), "exp": _iso(T0 + LIFETIME)}]}]))
    rotated_at = T0 + timedelta(hours=2)
    rotated_list = _trust_list(ISSUER, REGION, [(A1, T0 - timedelta(days=30), rotated_at + timedelta(hours=49)),
                                                 (A2, rotated_at, None)], issued_at=rotated_at)
    cases.append(_case("rotated_key_still_valid",
                       "Signed by key 1 before the issuer rotated to key 2; key 1 stays listed (not_after set) "
                       "until its last credential expires, so the credential is still valid after the rotation.",
                       _credential(A1, "rotated"), _expected(True, None, kid=A1.kid), now=rotated_at + timedelta(hours=10),
                       trust_lists=[rotated_list]))
    stale_list = _trust_list(ISSUER, REGION, [(A1, T0 - timedelta(days=30), None)],
                             issued_at=T0 - timedelta(days=10), validity=timedelta(days=1))
    cases.append(_case("stale_trust_list",
                       "The trust list is 9 days past its next_update (grace 24 h): the credential still verifies "
                       "(dropping the list would reject a whole region) but the result carries the warning.",
                       _credential(A1, "stale"), _expected(True, None, kid=A1.kid, warnings=("stale_trust_list",)),
                       now=later, trust_lists=[stale_list]))
    parts = _parts(_credential(A1, "unsupported_algorithm"))
    parts[0] = cbor2.dumps({1: -7, 4: A1.kid_bytes}, canonical=True)  # ES256 instead of EdDSA
    cases.append(_case("unsupported_algorithm", "The protected header names ES256 (-7); only EdDSA (-8) is accepted.",
                       _token(parts), _expected(False, "unsupported_algorithm", kid=None, issuer=None, colour=None,
                                                iat=None), now=later))
    what = "base64url" if _version == 1 else "base32"
    cases.append(_case("malformed", f"Not {what}: the credential cannot be read at all.",
                       valid[:40] + "*" + valid[41:],
                       _expected(False, "malformed", kid=None, issuer=None, colour=None, iat=None), now=later))
    cases += _issue9_cases(later)
    return cases


def _issue9_cases(later: datetime) -> list[dict[str, Any]]:
    """Times and lifetimes, the unprotected header, and the subject older credentials carried."""
    t0 = int(T0.timestamp())
    year_9999 = int(datetime(9999, 1, 1, tzinfo=timezone.utc).timestamp())
    too_long = timedelta(days=7, seconds=1)
    cases = [
        _case("iat_out_of_range", "Properly signed, but iat is in the year 9999: times are Unix seconds below 2^32 "
              "(before 2106), anything else is malformed.",
              _resigned(A1, "iat_out_of_range", iat=year_9999, exp=year_9999 + 3600),
              _expected(False, "malformed", **UNREADABLE), now=later),
        _case("exp_out_of_range", "Properly signed, issued now, but exp is in the year 9999: malformed, never valid.",
              _resigned(A1, "exp_out_of_range", exp=year_9999), _expected(False, "malformed", **UNREADABLE), now=later),
        _case("lifetime_too_long", "Properly signed, but exp is 7 days and 1 second after iat: longer than a verifier "
              "accepts from a trust-list issuer (7 days), so invalid_lifetime, reported with the authentic claims.",
              _resigned(A1, "lifetime_too_long", exp=t0 + int(too_long.total_seconds())),
              _expected(False, "invalid_lifetime", kid=A1.kid, lifetime=too_long), now=later),
        _case("lifetime_not_positive", "Properly signed, but exp equals iat: invalid_lifetime.",
              _resigned(A1, "lifetime_not_positive", exp=t0),
              _expected(False, "invalid_lifetime", kid=A1.kid, lifetime=timedelta(0)), now=T0),
        _case("legacy_subject", "Issued in the older format with a subject claim (2, text): still valid until it "
              "expires. New credentials carry no subject.",
              _credential(A1, "legacy_subject", subject="vector-legacy"), _expected(True, None, kid=A1.kid), now=later),
    ]
    for name, unprotected, description in (
        ("unprotected_alg", {1: 5}, "The unprotected header holds an alg (1: 5, HMAC): it must be empty."),
        ("unprotected_kid", {4: STRANGER.kid_bytes}, "The unprotected header holds a second, conflicting kid: "
                                                     "it must be empty."),
    ):
        parts = _parts(_credential(A1, name))
        parts[1] = unprotected  # not covered by the signature, which still verifies
        cases.append(_case(name, description, _token(parts), _expected(False, "malformed", **UNREADABLE), now=later))
    return cases


def main() -> None:
    for version in VERSIONS:
        directory = CASES / f"v{version}"
        directory.mkdir(parents=True, exist_ok=True)
        for case in build(version):
            path = directory / f"{case['name']}.json"
            path.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", "utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
