"""Signed credentials: issuing, the wire format, defensive decoding and every verification outcome."""
from __future__ import annotations

import re

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from bot.credentials.cwt import (
    CLAIM_COLOUR,
    MAX_TOKEN_LENGTH,
    CredentialError,
    RevocationState,
    VerificationReason,
    decode_credential,
    expiry_for,
    issue_credential,
    token_bytes,
    verify_credential,
)
from bot.credentials.keyring import KeyRing, SigningKey, b64url_encode
from bot.credentials.trust import TrustStore
from rules.model import Colour

ISSUER = "CN-330100"
SUBJECT = "sub_k3J9xQ2mT7vW5pL8nR4c"  # a 22-character pseudonym, like the ones storage hands out
ISSUED = datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc)
EXPIRES = ISSUED + timedelta(hours=40)
DURING = ISSUED + timedelta(hours=2)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _new_signer() -> SigningKey:
    return SigningKey.from_private_key(Ed25519PrivateKey.generate())


def _list_for(signer: SigningKey, issuer: str, *, issued_at: datetime = ISSUED - timedelta(days=1),
              not_before: datetime = ISSUED - timedelta(days=1), not_after: datetime | None = None,
              validity: timedelta = timedelta(days=7)) -> dict[str, Any]:
    return {
        "format": "healthcode-trust-list/1",
        "issuer": issuer,
        "region": "测试区",
        "issued_at": issued_at.isoformat(),
        "next_update": (issued_at + validity).isoformat(),
        "keys": [{
            "kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
            "not_before": not_before.isoformat(), "not_after": not_after.isoformat() if not_after else None,
        }],
    }


@pytest.fixture
def signer() -> SigningKey:
    return _new_signer()


@pytest.fixture
def trust(signer: SigningKey) -> TrustStore:
    return TrustStore.from_lists([_list_for(signer, ISSUER)], ISSUED, timedelta(days=1))


def _issue(signer: SigningKey, colour: Colour = Colour.GREEN, **overrides: Any) -> str:
    arguments: dict[str, Any] = dict(
        issuer=ISSUER, subject=SUBJECT, colour=colour, issued_at=ISSUED, expires_at=EXPIRES
    )
    arguments.update(overrides)
    return issue_credential(signer, **arguments).token


def _raw_token(
    signer: SigningKey,
    *,
    protected: Any = None,
    claims: Any = None,
    unprotected: Any = None,
    tag: int | None = 18,
    payload: bytes | None = None,
) -> str:
    """Build and sign a COSE_Sign1 by hand, to produce exactly the malformation under test."""
    protected_map = {1: -8, 4: signer.kid_bytes} if protected is None else protected
    protected_bytes = protected_map if isinstance(protected_map, bytes) else cbor2.dumps(protected_map)
    if payload is None:
        payload = cbor2.dumps(_claims() if claims is None else claims)
    signature = signer.sign(cbor2.dumps(["Signature1", protected_bytes, b"", payload]))
    body = [protected_bytes, {} if unprotected is None else unprotected, payload, signature]
    return b64url_encode(cbor2.dumps(cbor2.CBORTag(tag, body) if tag is not None else body))


def _claims(**changes: Any) -> dict[int, Any]:
    claims: dict[int, Any] = {1: ISSUER, 2: SUBJECT, 6: int(ISSUED.timestamp()), 4: int(EXPIRES.timestamp()),
                              7: bytes(10), CLAIM_COLOUR: "green"}
    for key, value in changes.items():
        number = {"iss": 1, "sub": 2, "iat": 6, "exp": 4, "cti": 7, "colour": CLAIM_COLOUR}[key]
        if value is None:
            del claims[number]
        else:
            claims[number] = value
    return claims


def _reason(token: str, trust: TrustStore, now: datetime = DURING) -> str:
    return verify_credential(token, trust, now).reason


# -- issuing and the happy path ----------------------------------------------------------------


@pytest.mark.parametrize("colour", list(Colour))
def test_issued_credential_verifies_with_all_claims(signer: SigningKey, trust: TrustStore, colour: Colour) -> None:
    issued = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=colour, issued_at=ISSUED,
                              expires_at=EXPIRES, cti=bytes.fromhex("00112233445566778899"))
    result = verify_credential(issued.token, trust, DURING)
    assert (result.valid, result.reason) == (True, "ok")
    assert result.colour is colour
    assert (result.issuer, result.kid, result.subject) == (ISSUER, signer.kid, SUBJECT)
    assert (result.iat, result.exp) == (ISSUED, EXPIRES)
    assert result.cti == issued.cti_hex == "00112233445566778899"
    assert result.checked_at == DURING
    assert result.warnings == ()
    assert (issued.kid, issued.colour, issued.issued_at, issued.expires_at) == (signer.kid, colour, ISSUED, EXPIRES)


def test_wire_format_is_tagged_cose_sign1_with_cwt_claims(signer: SigningKey) -> None:
    issued = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.YELLOW, issued_at=ISSUED,
                              expires_at=EXPIRES)
    message = cbor2.loads(token_bytes(issued.token))
    assert message.tag == 18
    protected, unprotected, payload, signature = message.value
    assert cbor2.loads(protected) == {1: -8, 4: signer.kid_bytes}
    assert dict(unprotected) == {}
    assert len(signature) == 64
    claims = cbor2.loads(payload)
    assert claims == {1: ISSUER, 2: SUBJECT, 6: int(ISSUED.timestamp()), 4: int(EXPIRES.timestamp()),
                      7: bytes.fromhex(issued.cti_hex), -65537: "yellow"}
    assert CLAIM_COLOUR < -65536  # private-use range of RFC 8392


def test_token_is_compact_enough_for_a_qr_code(signer: SigningKey) -> None:
    tokens = [issue_credential(signer, issuer=ISSUER, colour=colour, issued_at=ISSUED, expires_at=EXPIRES).token
              for colour in Colour]
    # No subject, 9-character issuer, 8-byte cti, 8-byte kid: 131 bytes, 210 base32 characters.
    assert max(len(token) for token in tokens) <= 210
    assert all(re.fullmatch(r"[A-Z2-7]+", token) for token in tokens)  # no padding, upper case


def test_default_cti_is_random_and_8_bytes(signer: SigningKey) -> None:
    first = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.GREEN, issued_at=ISSUED,
                             expires_at=EXPIRES)
    second = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.GREEN, issued_at=ISSUED,
                              expires_at=EXPIRES)
    assert len(bytes.fromhex(first.cti_hex)) == 8
    assert first.cti_hex != second.cti_hex


def test_times_are_truncated_to_whole_seconds_consistently(signer: SigningKey, trust: TrustStore) -> None:
    issued = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.GREEN,
                              issued_at=ISSUED + timedelta(microseconds=999_999), expires_at=EXPIRES)
    assert issued.issued_at == ISSUED
    assert verify_credential(issued.token, trust, DURING).iat == issued.issued_at


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"issued_at": ISSUED.replace(tzinfo=None)}, "issued_at"),
        ({"expires_at": ISSUED}, "expires_at"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 65}, "subject"),
        ({"issuer": " "}, "issuer"),
        ({"cti": b""}, "cti"),
        ({"cti": bytes(33)}, "cti"),
    ],
)
def test_issue_rejects_bad_arguments(signer: SigningKey, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _issue(signer, **overrides)


# -- expiry ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # 09:00 in Shanghai on 1 May → end of 2 May local = 3 May 00:00 +08:00.
        (datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc), SHANGHAI, datetime(2024, 5, 2, 16, 0, tzinfo=timezone.utc)),
        # 23:59 local on 1 May is still 1 May.
        (datetime(2024, 5, 1, 15, 59, tzinfo=timezone.utc), SHANGHAI, datetime(2024, 5, 2, 16, 0, tzinfo=timezone.utc)),
        # 00:00 local on 2 May (16:00 UTC on 1 May) is already 2 May.
        (datetime(2024, 5, 1, 16, 0, tzinfo=timezone.utc), SHANGHAI, datetime(2024, 5, 3, 16, 0, tzinfo=timezone.utc)),
        # Across the spring DST change in Berlin: midnight after 31 March is at +02:00.
        (datetime(2024, 3, 30, 11, 0, tzinfo=timezone.utc), ZoneInfo("Europe/Berlin"),
         datetime(2024, 3, 31, 22, 0, tzinfo=timezone.utc)),
    ],
)
def test_expiry_is_end_of_next_local_day(now: datetime, tz: ZoneInfo, expected: datetime) -> None:
    result = expiry_for(now, tz)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_expiry_needs_aware_time() -> None:
    with pytest.raises(ValueError, match="now"):
        expiry_for(datetime(2024, 5, 1, 9, 0), SHANGHAI)


# -- every verification failure, each from a real manipulation -------------------------------------


def test_expired_by_the_clock(signer: SigningKey, trust: TrustStore) -> None:
    token = _issue(signer)
    assert _reason(token, trust, EXPIRES - timedelta(seconds=1)) == "ok"
    result = verify_credential(token, trust, EXPIRES)
    assert (result.valid, result.reason) == (False, "expired")
    assert result.colour is Colour.GREEN and result.exp == EXPIRES  # authentic data of an expired card


def test_not_yet_valid_beyond_clock_skew(signer: SigningKey, trust: TrustStore) -> None:
    token = _issue(signer)
    assert _reason(token, trust, ISSUED - timedelta(minutes=1)) == "ok"  # within the skew
    assert _reason(token, trust, ISSUED - timedelta(minutes=10)) == "not_yet_valid"


def test_flipped_payload_byte_breaks_signature(signer: SigningKey, trust: TrustStore) -> None:
    raw = token_bytes(_issue(signer))
    assert raw.count(SUBJECT.encode()) == 1
    tampered = raw.replace(SUBJECT.encode(), SUBJECT[:-1].encode() + b"X")
    result = verify_credential(b64url_encode(tampered), trust, DURING)
    assert result.reason == "signature_invalid"
    assert result.colour is None and result.subject is None  # nothing unauthenticated is reported


def test_recoloured_red_card_breaks_signature(signer: SigningKey, trust: TrustStore) -> None:
    protected, unprotected, payload, signature = cbor2.loads(token_bytes(_issue(signer, Colour.RED))).value
    claims = dict(cbor2.loads(payload))
    assert claims[CLAIM_COLOUR] == "red"
    claims[CLAIM_COLOUR] = "green"
    forged = cbor2.CBORTag(18, [protected, {}, cbor2.dumps(claims), signature])
    result = verify_credential(b64url_encode(cbor2.dumps(forged)), trust, DURING)
    assert (result.valid, result.reason, result.colour) == (False, "signature_invalid", None)


def test_flipped_signature_byte(signer: SigningKey, trust: TrustStore) -> None:
    raw = bytearray(token_bytes(_issue(signer)))
    raw[-1] ^= 0x01
    assert _reason(b64url_encode(bytes(raw)), trust) == "signature_invalid"


def test_signature_by_another_key_with_our_kid(signer: SigningKey, trust: TrustStore) -> None:
    impostor = _new_signer()
    token = _raw_token(impostor, protected={1: -8, 4: signer.kid_bytes})
    assert _reason(token, trust) == "signature_invalid"


def test_unknown_kid(trust: TrustStore) -> None:
    assert _reason(_issue(_new_signer()), trust) == "unknown_key"


def test_unknown_issuer(signer: SigningKey, trust: TrustStore) -> None:
    result = verify_credential(_issue(signer, issuer="CN-999999"), trust, DURING)
    assert (result.reason, result.issuer) == ("unknown_issuer", "CN-999999")


def test_kid_of_another_issuer_is_unknown_key_for_the_claimed_issuer(signer: SigningKey) -> None:
    shanghai_signer = _new_signer()
    trust = TrustStore.from_lists(
        [_list_for(signer, ISSUER), _list_for(shanghai_signer, "CN-310000")], ISSUED, timedelta(0)
    )
    assert _reason(_issue(shanghai_signer, issuer="CN-310000"), trust) == "ok"
    result = verify_credential(_issue(shanghai_signer, issuer=ISSUER), trust, DURING)
    assert result.reason == "unknown_key"
    assert "key not of the issuer" in result.detail


def test_key_not_valid_at_issue_time(signer: SigningKey) -> None:
    later_key = TrustStore.from_lists(
        [_list_for(signer, ISSUER, not_before=ISSUED + timedelta(seconds=1))], ISSUED, timedelta(0)
    )
    assert _reason(_issue(signer), later_key) == "unknown_key"
    retired_key = TrustStore.from_lists(
        [_list_for(signer, ISSUER, not_after=ISSUED)], ISSUED, timedelta(0)
    )
    assert _reason(_issue(signer), retired_key) == "unknown_key"
    assert _reason(_issue(signer, issued_at=ISSUED - timedelta(seconds=1)), retired_key) == "ok"


@pytest.mark.parametrize(
    ("state", "expected"),
    [(RevocationState.ACTIVE, "ok"), (RevocationState.REVOKED, "revoked"), (RevocationState.SUPERSEDED, "superseded")],
)
def test_revocation_callback(signer: SigningKey, trust: TrustStore, state: RevocationState, expected: str) -> None:
    issued = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.GREEN, issued_at=ISSUED,
                              expires_at=EXPIRES)
    asked: list[str] = []

    def revocation(cti_hex: str) -> RevocationState:
        asked.append(cti_hex)
        return state

    result = verify_credential(issued.token, trust, DURING, revoked=revocation)
    assert result.reason == expected
    assert result.valid is (expected == "ok")
    assert asked == [issued.cti_hex]


def test_revocation_is_not_consulted_for_forgeries(signer: SigningKey, trust: TrustStore) -> None:
    raw = bytearray(token_bytes(_issue(signer)))
    raw[-1] ^= 0x01

    def must_not_be_called(cti_hex: str) -> RevocationState:
        raise AssertionError("revocation looked up before the signature was checked")

    assert verify_credential(b64url_encode(bytes(raw)), trust, DURING, must_not_be_called).reason == "signature_invalid"


def test_stale_trust_list_still_verifies_with_a_warning(signer: SigningKey) -> None:
    grace = timedelta(days=1)
    trust = TrustStore.from_lists([_list_for(signer, ISSUER, validity=timedelta(hours=1))], ISSUED, grace)
    token = _issue(signer)
    fresh = verify_credential(token, trust, ISSUED + timedelta(hours=1))
    stale = verify_credential(token, trust, ISSUED + timedelta(hours=2))  # next_update + grace = ISSUED + 1 h
    assert fresh.warnings == ()
    assert (stale.valid, stale.reason, stale.warnings) == (True, "ok", ("stale_trust_list",))
    expired = verify_credential(token, trust, EXPIRES)
    assert (expired.reason, expired.warnings) == ("expired", ("stale_trust_list",))


def test_rotation_old_credentials_verify_and_new_ones_use_new_kid(tmp_path: Path) -> None:
    lifetime = timedelta(hours=48)
    ring = KeyRing.generate(tmp_path / "keys", ISSUED - timedelta(days=10))
    old_kid = ring.current_signer().kid
    before = issue_credential(ring.current_signer(), issuer=ISSUER, subject=SUBJECT, colour=Colour.GREEN,
                              issued_at=ISSUED, expires_at=EXPIRES)
    rotated_at = ISSUED + timedelta(hours=1)
    ring.rotate(rotated_at, lifetime)
    after = issue_credential(ring.current_signer(), issuer=ISSUER, subject=SUBJECT, colour=Colour.YELLOW,
                             issued_at=rotated_at, expires_at=rotated_at + timedelta(hours=40))
    assert before.kid == old_kid != after.kid == ring.current_signer().kid

    published = ring.export_trust_list(ISSUER, "杭州市", rotated_at, timedelta(days=7))
    trust = TrustStore.from_lists([published], rotated_at, timedelta(0))
    now = rotated_at + timedelta(minutes=5)
    assert verify_credential(before.token, trust, now).kid == old_kid
    assert _reason(before.token, trust, now) == "ok"
    assert _reason(after.token, trust, now) == "ok"

    own = TrustStore()
    own.add_own(KeyRing.load(tmp_path / "keys"), ISSUER, "杭州市")
    assert _reason(before.token, own, now) == "ok"
    assert _reason(after.token, own, now) == "ok"


def test_retired_key_cannot_issue_after_its_window(tmp_path: Path) -> None:
    ring = KeyRing.generate(tmp_path / "keys", ISSUED - timedelta(days=10))
    old = ring.current_signer()
    ring.rotate(ISSUED, timedelta(hours=48))
    trust = TrustStore.from_lists([ring.export_trust_list(ISSUER, "杭州市", ISSUED, timedelta(days=7))], ISSUED,
                                  timedelta(0))
    late = ISSUED + timedelta(hours=48)
    stolen = _issue(old, issued_at=late, expires_at=late + timedelta(hours=1))
    assert _reason(stolen, trust, late + timedelta(minutes=1)) == "unknown_key"


# -- defensive decoding ----------------------------------------------------------------------------


def test_too_long_is_checked_first() -> None:
    with pytest.raises(CredentialError) as caught:
        decode_credential("A" * (MAX_TOKEN_LENGTH + 1))
    assert caught.value.reason == "too_long"


@pytest.mark.parametrize("token", ["", "!!!!", "abc=", "A", "ab cd", "QQ", "QR"])
def test_not_base64url_is_malformed(token: str) -> None:
    # "QR" decodes to the same byte as "QQ" but with stray bits: a second spelling, refused.
    with pytest.raises(CredentialError) as caught:
        decode_credential(token)
    assert caught.value.reason == "malformed"


def _malformations(signer: SigningKey) -> dict[str, str]:
    good = token_bytes(_raw_token(signer))
    return {
        "not-cbor": b64url_encode(b"\xff\xff\xff"),
        "trailing-bytes": b64url_encode(good + b"\x00"),
        "untagged": _raw_token(signer, tag=None),
        "cwt-tag-61": _raw_token(signer, tag=61),
        "array-of-3": b64url_encode(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""]))),
        "protected-not-bstr": b64url_encode(cbor2.dumps(cbor2.CBORTag(18, [{1: -8}, {}, b"", bytes(64)]))),
        "unprotected-not-map": _raw_token(signer, unprotected=[]),
        "detached-payload": b64url_encode(cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -8, 4: b"k"}), {}, None,
                                                                         bytes(64)]))),
        "missing-alg": _raw_token(signer, protected={4: signer.kid_bytes}),
        "missing-kid": _raw_token(signer, protected={1: -8}),
        "kid-in-unprotected-only": _raw_token(signer, protected={1: -8}, unprotected={4: signer.kid_bytes}),
        "kid-as-text": _raw_token(signer, protected={1: -8, 4: signer.kid}),
        "empty-kid": _raw_token(signer, protected={1: -8, 4: b""}),
        "crit-header": _raw_token(signer, protected={1: -8, 2: [99], 4: signer.kid_bytes}),
        "protected-not-map": _raw_token(signer, protected=cbor2.dumps([1, -8])),
        "payload-not-map": _raw_token(signer, payload=cbor2.dumps([1, 2])),
        "missing-iss": _raw_token(signer, claims=_claims(iss=None)),
        "missing-exp": _raw_token(signer, claims=_claims(exp=None)),
        "iat-as-bool": _raw_token(signer, claims=_claims(iat=True)),
        "iat-as-float": _raw_token(signer, claims=_claims(iat=1714525200.0)),
        "exp-out-of-range": _raw_token(signer, claims=_claims(exp=2**62)),
        "cti-as-text": _raw_token(signer, claims=_claims(cti="abc")),
        "unknown-colour": _raw_token(signer, claims=_claims(colour="blue")),
        "colour-as-list": _raw_token(signer, claims=_claims(colour=["green"])),
        "huge-subject": _raw_token(signer, claims=_claims(sub="x" * 200)),
        "duplicate-claim": _raw_token(signer, payload=b"\xa2\x01\x69CN-330100\x01\x69CN-330100"),
        "indefinite-text": _raw_token(signer, payload=b"\xa1\x01\x7f\x63CN-\x66330100\xff"),
        "datetime-tag": _raw_token(signer, claims=_claims(iat=cbor2.CBORTag(1, 1714525200))),
        "regex-tag": _raw_token(signer, claims=_claims(sub=cbor2.CBORTag(35, "(a+)+$"))),
        "bignum-tag": _raw_token(signer, claims=_claims(iat=cbor2.CBORTag(2, b"\x01" * 40))),
        "shared-ref-tag": _raw_token(signer, claims=_claims(sub=cbor2.CBORTag(29, 0))),
        "huge-byte-string-length": b64url_encode(b"\xd2\x84\x5b\xff\xff\xff\xff\xff\xff\xff\xff"),
        "huge-array-length": b64url_encode(b"\xd2\x9b\xff\xff\xff\xff\xff\xff\xff\xff"),
        "huge-map-length": b64url_encode(b"\xd2\xbb\x00\x00\x00\xff\xff\xff\xff\xff"),
        "nesting-bomb": b64url_encode(b"\xd2" + b"\x81" * 3000 + b"\x00"),
        "tag-bomb": b64url_encode(b"\xd2" * 1500 + b"\x00"),
        "nesting-bomb-in-payload": _raw_token(signer, payload=b"\x81" * 2500 + b"\x00"),
    }


MALFORMATION_NAMES = sorted(_malformations(_new_signer()))


@pytest.mark.parametrize("name", MALFORMATION_NAMES)
def test_structural_malformations(name: str, signer: SigningKey, trust: TrustStore) -> None:
    token = _malformations(signer)[name]
    assert len(token) <= MAX_TOKEN_LENGTH
    started = time.perf_counter()
    with pytest.raises(CredentialError) as caught:
        decode_credential(token)
    assert time.perf_counter() - started < 0.5  # bombs are refused, not chewed through
    assert caught.value.reason == "malformed", str(caught.value)
    assert _reason(token, trust) == "malformed"


@pytest.mark.parametrize("alg", [-7, -35, 5, "EdDSA", -8.0])
def test_other_algorithms_are_unsupported(alg: Any, signer: SigningKey, trust: TrustStore) -> None:
    token = _raw_token(signer, protected={1: alg, 4: signer.kid_bytes})
    assert _reason(token, trust) == "unsupported_algorithm"


def test_hand_built_token_in_our_format_verifies(signer: SigningKey, trust: TrustStore) -> None:
    # Guards the malformation tests above: the baseline they alter is itself accepted.
    assert _reason(_raw_token(signer), trust) == "ok"


# -- independent implementation check (pycose) -----------------------------------------------------


def test_pycose_verifies_our_token(signer: SigningKey) -> None:
    issued = issue_credential(signer, issuer=ISSUER, subject=SUBJECT, colour=Colour.RED, issued_at=ISSUED,
                              expires_at=EXPIRES)
    raw = token_bytes(issued.token)
    # pycose 1.1 expects cbor2 < 6, which returned tag content as a list (now a tuple), so the outer
    # tag is unwrapped here and pycose parses the four COSE_Sign1 items and checks the signature.
    outer = cbor2.loads(raw)
    assert outer.tag == Sign1Message.cbor_tag == 18
    message = Sign1Message.from_cose_obj(
        [outer.value[0], dict(outer.value[1]), outer.value[2], outer.value[3]], True
    )
    assert message.phdr[Algorithm] is EdDSA
    assert message.phdr[KID] == signer.kid_bytes
    message.key = OKPKey(crv=Ed25519, x=signer.public_key_raw)
    assert message.verify_signature()
    assert cbor2.loads(message.payload)[-65537] == "red"

    message.key = OKPKey(crv=Ed25519, x=_new_signer().public_key_raw)
    assert not message.verify_signature()


def test_we_verify_a_token_made_by_pycose(signer: SigningKey, trust: TrustStore) -> None:
    message = Sign1Message(
        phdr={Algorithm: EdDSA, KID: signer.kid_bytes}, payload=cbor2.dumps(_claims(colour="yellow"))
    )
    message.key = OKPKey(crv=Ed25519, x=signer.public_key_raw, d=signer.private_key.private_bytes_raw())
    token = b64url_encode(message.encode())
    result = verify_credential(token, trust, DURING)
    assert (result.reason, result.colour) == ("ok", Colour.YELLOW)


# -- fuzzing ---------------------------------------------------------------------------------------

_FUZZ_SIGNER = _new_signer()
_FUZZ_TOKEN_BYTES = token_bytes(_issue(_FUZZ_SIGNER))
_FUZZ_TRUST = TrustStore.from_lists([_list_for(_FUZZ_SIGNER, ISSUER)], ISSUED, timedelta(0))


def _decodes_or_credential_error(token: str) -> None:
    try:
        decode_credential(token)
    except CredentialError as error:
        assert error.reason in set(VerificationReason)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_random_text(token: str) -> None:
    _decodes_or_credential_error(token)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_cbor_bytes(data: bytes) -> None:
    _decodes_or_credential_error(b64url_encode(data))


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.integers(-70000, 10), children, max_size=6),
    max_leaves=30,
))
def test_fuzz_well_formed_cbor_of_the_wrong_shape(value: Any) -> None:
    for wrapped in (value, cbor2.CBORTag(18, value), cbor2.CBORTag(18, [cbor2.dumps({1: -8, 4: b"k"}), {},
                                                                         cbor2.dumps(value), bytes(64)])):
        _decodes_or_credential_error(b64url_encode(cbor2.dumps(wrapped)))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_mutated_valid_token_never_verifies(data: st.DataObject) -> None:
    raw = bytearray(_FUZZ_TOKEN_BYTES)
    position = data.draw(st.integers(0, len(raw) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda byte: byte != raw[position]))
    raw[position] = replacement
    token = b64url_encode(bytes(raw))
    _decodes_or_credential_error(token)
    assert verify_credential(token, _FUZZ_TRUST, DURING).valid is False


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.integers(0, 300))
def test_fuzz_truncated_and_extended_tokens(extra: bytes, cut: int) -> None:
    truncated = _FUZZ_TOKEN_BYTES[: max(0, len(_FUZZ_TOKEN_BYTES) - cut - 1)]
    for raw in (truncated, _FUZZ_TOKEN_BYTES + extra):
        _decodes_or_credential_error(b64url_encode(raw))
        assert verify_credential(b64url_encode(raw), _FUZZ_TRUST, DURING).valid is False


def test_fuzz_baseline_token_is_valid() -> None:
    # Without this the mutation tests above could pass on a token that never verified at all.
    assert verify_credential(b64url_encode(_FUZZ_TOKEN_BYTES), _FUZZ_TRUST, DURING).valid is True

