"""The decoder and the verification use case on hostile input: a reason, never an exception."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from bot.credentials.cwt import (
    CredentialError,
    VerificationReason,
    decode_credential,
    encode_token,
    issue_credential,
    token_bytes,
)
from bot.credentials.keyring import SigningKey, b64url_encode
from bot.services.verification import verify_token
from bot.credentials.trust import TrustStore, parse_trust_list
from rules.model import Colour

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
SIGNER = SigningKey.from_private_key(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
TRUST = TrustStore.from_lists([parse_trust_list({
    "format": "healthcode-trust-list/1", "issuer": "CN-330100", "region": "杭州市",
    "issued_at": (NOW - timedelta(days=1)).isoformat(), "next_update": (NOW + timedelta(days=1)).isoformat(),
    "keys": [{"kid": SIGNER.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(SIGNER.public_key_raw),
              "not_before": (NOW - timedelta(days=1)).isoformat(), "not_after": None}]}, "test")], NOW, timedelta(0))
GOOD = issue_credential(SIGNER, issuer="CN-330100", subject="fuzz", colour=Colour.GREEN, issued_at=NOW,
                        expires_at=NOW + timedelta(hours=5)).token

cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2 ** 64), max_value=2 ** 64 - 1) | st.floats()
    | st.text(max_size=20) | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.integers(min_value=-70000, max_value=10) | st.text(max_size=4), children, max_size=5)
    | st.builds(cbor2.CBORTag, st.sampled_from([18, 98, 1, 24, 55799, 40000]), children),
    max_leaves=20,
)


def _never_raises_but_credential_error(token: str) -> None:
    try:
        decode_credential(token)
    except CredentialError as error:
        assert error.reason in set(VerificationReason) and error.detail


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=5000))
def test_decoder_on_any_text(token: str) -> None:
    _never_raises_but_credential_error(token)


@settings(max_examples=600, deadline=None)
@given(cbor_values)
def test_decoder_on_any_cbor_structure(value: object) -> None:
    try:
        raw = cbor2.dumps(value)
    except (ValueError, TypeError, OverflowError):
        return
    for encode in (encode_token, b64url_encode):
        _never_raises_but_credential_error(encode(raw))
        _never_raises_but_credential_error(encode(cbor2.dumps(cbor2.CBORTag(18, value))))


@pytest.mark.parametrize("encode", [encode_token, b64url_encode], ids=["base32", "base64url"])
async def test_every_single_bit_flip_of_a_good_credential_is_refused(encode) -> None:
    original = token_bytes(GOOD)
    assert (await verify_token(encode(original), trust=TRUST, now=NOW)).valid
    for bit in range(len(original) * 8):
        raw = bytearray(original)
        raw[bit // 8] ^= 1 << (bit % 8)
        view = await verify_token(encode(bytes(raw)), trust=TRUST, now=NOW)
        assert not view.valid and view.reason is not VerificationReason.OK, bit


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([encode_token, b64url_encode]))
async def test_use_case_turns_any_bytes_into_a_verdict(raw: bytes, encode) -> None:
    view = await verify_token(encode(raw), trust=TRUST, now=NOW)
    assert not view.valid and view.colour is None and view.reason.value in {
        "malformed", "unsupported_algorithm", "unknown_issuer", "unknown_key", "signature_invalid"}


async def test_the_unflipped_credential_is_valid() -> None:
    assert (await verify_token(GOOD, trust=TRUST, now=NOW)).valid
