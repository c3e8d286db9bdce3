"""Issue 9, items 7, 12, 15 and 16 at the format's level: times and lifetimes, no linkable subject, an empty
unprotected header, and issuer ids with one ASCII grammar."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials.cwt import (
    token_bytes,
    CLAIM_COLOUR,
    decode_credential,
    expiry_for,
    issue_credential,
    verify_credential,
)
from bot.credentials.keyring import MAX_CREDENTIAL_LIFETIME, KeyRing, SigningKey, b64url_encode
from bot.services.verification import describe, verify_token
from bot.credentials.trust import FOREIGN_MAX_LIFETIME, OWN_MAX_LIFETIME, TrustListError, TrustStore, parse_trust_list
from bot.credentials.trust_sources import parse_revocation_list
from rules.model import Colour

ISSUER = "CN-330100"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _signer() -> SigningKey:
    return SigningKey.from_private_key(Ed25519PrivateKey.generate())


def _list(signer: SigningKey, issuer: str = ISSUER) -> dict[str, Any]:
    return {"format": "healthcode-trust-list/1", "issuer": issuer, "region": "测试区",
            "issued_at": (NOW - timedelta(days=1)).isoformat(), "next_update": (NOW + timedelta(days=6)).isoformat(),
            "keys": [{"kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
                      "not_before": (NOW - timedelta(days=30)).isoformat(), "not_after": None}]}


def _signed(signer: SigningKey, *, unprotected: Any = None, **claims: Any) -> str:
    """A COSE_Sign1 signed by hand with exactly these claims (defaults: a plain green credential)."""
    # With a subject, as credentials issued before issue 9 had: today's verifier and the old one both read it.
    values = {1: ISSUER, 2: "s-legacy", 6: int(NOW.timestamp()), 4: int((NOW + timedelta(hours=30)).timestamp()),
              7: bytes(range(10)), CLAIM_COLOUR: "green"}
    names = {"iss": 1, "sub": 2, "iat": 6, "exp": 4}
    values.update({names[name]: value for name, value in claims.items()})
    values = {key: value for key, value in values.items() if value is not None}
    protected = cbor2.dumps({1: -8, 4: signer.kid_bytes})
    payload = cbor2.dumps(values)
    signature = signer.sign(cbor2.dumps(["Signature1", protected, b"", payload]))
    body = [protected, {} if unprotected is None else unprotected, payload, signature]
    return b64url_encode(cbor2.dumps(cbor2.CBORTag(18, body)))


def _foreign(signer: SigningKey) -> TrustStore:
    return TrustStore.from_lists([_list(signer)], NOW, timedelta(hours=24))


def _own(tmp_path) -> tuple[KeyRing, TrustStore]:
    ring = KeyRing.generate(tmp_path / "keys", NOW - timedelta(days=1))
    store = TrustStore(timedelta(hours=24))
    store.add_own(ring, ISSUER, "杭州市")
    return ring, store


# -- item 7: times in range, lifetime capped ---------------------------------------------------------------


YEAR_9999 = int(datetime(9999, 12, 31, 20, 0, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("claims", [
    {"iat": YEAR_9999, "exp": YEAR_9999 + 3600},   # both far out: astimezone(+08:00) overflowed
    {"exp": YEAR_9999},                             # valid: true until the year 9999
    {"iat": -5, "exp": 3600},                       # before 1970
    {"exp": 2**32},                                 # past the format's horizon (2106)
])
async def test_times_outside_the_format_are_malformed_on_every_channel(claims: dict[str, int]) -> None:
    signer = _signer()
    token = _signed(signer, **claims)
    result = verify_credential(token, _foreign(signer), NOW)
    assert not result.valid and result.reason == "malformed", result
    view = await verify_token(token, trust=_foreign(signer), now=NOW)
    assert view.to_json()["valid"] is False and view.to_json()["reason"] == "malformed"
    describe(view, language="en", tz=SHANGHAI)  # the bot's and CLI's text render without an overflow


def test_a_foreign_issuer_may_not_sign_for_longer_than_the_cap() -> None:
    signer = _signer()
    at_cap = _signed(signer, exp=int((NOW + FOREIGN_MAX_LIFETIME).timestamp()))
    assert verify_credential(at_cap, _foreign(signer), NOW + timedelta(hours=1)).valid
    over = _signed(signer, exp=int((NOW + FOREIGN_MAX_LIFETIME).timestamp()) + 1)
    result = verify_credential(over, _foreign(signer), NOW + timedelta(hours=1))
    assert not result.valid and result.reason == "invalid_lifetime"
    assert result.colour is Colour.GREEN  # authentic, so the facts are reported, but not valid


def test_our_own_credentials_live_at_most_our_policy(tmp_path) -> None:
    """The longest is a printed code's (HEALTHCODE_PAPER_DAYS at most 14); a chat card lives 48 h at most."""
    assert OWN_MAX_LIFETIME == timedelta(days=14) > MAX_CREDENTIAL_LIFETIME
    ring, store = _own(tmp_path)
    signer = ring.current_signer()
    longest = _signed(signer, exp=int((NOW + OWN_MAX_LIFETIME).timestamp()))
    assert verify_credential(longest, store, NOW).valid
    longer = _signed(signer, exp=int((NOW + OWN_MAX_LIFETIME).timestamp()) + 1)
    assert verify_credential(longer, store, NOW).reason == "invalid_lifetime"


def test_expiry_before_issue_is_an_invalid_lifetime() -> None:
    signer = _signer()
    token = _signed(signer, iat=int(NOW.timestamp()), exp=int(NOW.timestamp()))
    assert verify_credential(token, _foreign(signer), NOW).reason == "invalid_lifetime"


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_expiry_for_never_exceeds_our_policy_even_across_a_dst_change(zone: str) -> None:
    tz = ZoneInfo(zone)
    for day in range(365):
        now = datetime(2026, 1, 1, tzinfo=tz) + timedelta(days=day)  # local midnight: the longest case
        assert expiry_for(now, tz) - now <= MAX_CREDENTIAL_LIFETIME


# -- item 12: no subject ------------------------------------------------------------------------------------


def test_issued_credentials_carry_no_subject() -> None:
    issued = issue_credential(_signer(), issuer=ISSUER, colour=Colour.GREEN, issued_at=NOW,
                              expires_at=NOW + timedelta(hours=30))
    claims = cbor2.loads(cbor2.loads(token_bytes(issued.token)).value[2])
    assert set(claims) == {1, 4, 6, 7, CLAIM_COLOUR}
    assert decode_credential(issued.token).subject is None


def test_a_credential_without_a_subject_verifies_and_a_legacy_one_with_a_subject_still_does() -> None:
    signer = _signer()
    assert verify_credential(_signed(signer, sub=None), _foreign(signer), NOW).valid
    assert verify_credential(_signed(signer, sub="sub_k3J9xQ2mT7vW5pL8nR4c"), _foreign(signer), NOW).valid
    assert verify_credential(_signed(signer, sub=""), _foreign(signer), NOW).reason == "malformed"
    assert verify_credential(_signed(signer, sub=7), _foreign(signer), NOW).reason == "malformed"


# -- item 15: the unprotected header must be empty ----------------------------------------------------------


@pytest.mark.parametrize("unprotected", [{1: 5}, {4: b"otherkid"}, {"x": 1}, {-65537: "red"}])
def test_an_unprotected_header_that_is_not_empty_is_malformed(unprotected: dict[Any, Any]) -> None:
    signer = _signer()
    assert verify_credential(_signed(signer), _foreign(signer), NOW).valid  # the baseline verifies
    token = _signed(signer, unprotected=unprotected)
    result = verify_credential(token, _foreign(signer), NOW)
    assert not result.valid and result.reason == "malformed" and "unprotected" in result.detail


def test_our_own_kid_repeated_in_the_unprotected_header_is_malformed_too() -> None:
    signer = _signer()
    token = _signed(signer, unprotected={4: signer.kid_bytes})
    assert verify_credential(token, _foreign(signer), NOW).reason == "malformed"


# -- item 16: issuer ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("issuer", ["CN-330100", "CN-440300", "NZ", "DE-BY", "US-CA1234567890"])
def test_issuer_ids_of_the_grammar_are_accepted(issuer: str) -> None:
    assert parse_trust_list(_list(_signer(), issuer), "test").issuer == issuer


@pytest.mark.parametrize("issuer", ["CN-330100\u200b", "cn-330100", "CN-330100 ", " CN-330100", "CN–330100",
                                    "CN-３３０１００", "CN-330100\u00ad", "C", "CN-", "CN-1234567890123", "CN_330100",
                                    "ＣＮ-330100", "CN-330100\n"])
def test_issuer_ids_outside_the_grammar_are_refused_with_the_id_spelled_out(issuer: str) -> None:
    with pytest.raises(TrustListError, match="field 'issuer'") as caught:
        parse_trust_list(_list(_signer(), issuer), "list.json")
    assert ascii(issuer) in str(caught.value)  # invisible characters are visible in the message
    with pytest.raises(TrustListError, match="field 'issuer'"):
        parse_revocation_list({"format": "healthcode-revocation-list/1", "issuer": issuer, "revoked": []}, "r")


def test_a_credential_whose_issuer_is_outside_the_grammar_is_malformed() -> None:
    signer = _signer()
    token = _signed(signer, iss="CN-330100\u200b")
    assert verify_credential(token, _foreign(signer), NOW).reason == "malformed"
