"""Our credentials are standard COSE_Sign1/CWT: an independent implementation (pycose) reads and checks them,
and a COSE_Sign1 built by pycose verifies with ours."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from bot.credentials.cwt import encode_token, issue_credential, token_bytes
from bot.credentials.keyring import SigningKey, b64url_decode, b64url_encode
from bot.services.verification import verify_token
from bot.credentials.trust import TrustStore, parse_trust_list
from rules.model import Colour

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
CASES = Path(__file__).parent / "cases"


def _pycose_decode(raw: bytes) -> Sign1Message:
    """pycose's own COSE_Sign1 parser, given the tagged array.

    ``Sign1Message.decode`` expects cbor2 to return a tag's array as a list and maps as dicts, but
    cbor2 >= 6 freezes tagged content (tuple, frozendict); so the tag is unwrapped and thawed here,
    and the rest is pycose's ``from_cose_obj``.
    """
    tagged = cbor2.loads(raw)
    assert tagged.tag == 18  # COSE_Sign1
    protected, unprotected, payload, signature = tagged.value
    return Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)


def _trust_list(signer: SigningKey) -> dict:
    return {"format": "healthcode-trust-list/1", "issuer": "CN-330100", "region": "杭州市",
            "issued_at": (NOW - timedelta(days=1)).isoformat(), "next_update": (NOW + timedelta(days=6)).isoformat(),
            "keys": [{"kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
                      "not_before": (NOW - timedelta(days=1)).isoformat(), "not_after": None}]}


def test_pycose_verifies_our_credential_and_reads_the_cwt_claims() -> None:
    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    issued = issue_credential(signer, issuer="CN-330100", subject="pseudonym-1", colour=Colour.YELLOW,
                              issued_at=NOW, expires_at=NOW + timedelta(hours=39))
    message = _pycose_decode(token_bytes(issued.token))
    assert message.phdr[Algorithm] is EdDSA
    assert message.phdr[KID] == signer.kid_bytes
    message.key = OKPKey(crv=Ed25519, x=signer.public_key_raw)
    assert message.verify_signature()
    claims = cbor2.loads(message.payload)
    assert claims[1] == "CN-330100" and claims[6] == int(NOW.timestamp()) and claims[-65537] == "yellow"
    # A different key does not verify it: pycose really checked the signature.
    message.key = OKPKey(crv=Ed25519, x=SigningKey.from_private_key(Ed25519PrivateKey.generate()).public_key_raw)
    assert not message.verify_signature()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_pycose_verifies_the_published_valid_vector(version: str) -> None:
    case = json.loads((CASES / version / "valid.json").read_text("utf-8"))
    key = case["trust_lists"][0]["keys"][0]
    message = _pycose_decode(token_bytes(case["credential"]))
    message.key = OKPKey(crv=Ed25519, x=b64url_decode(key["x"]))
    assert message.verify_signature()


@pytest.mark.parametrize("encode", [encode_token, b64url_encode], ids=["base32", "base64url"])
async def test_a_credential_signed_by_pycose_verifies_with_ours(encode) -> None:
    private = Ed25519PrivateKey.generate()
    signer = SigningKey.from_private_key(private)
    claims = {1: "CN-330100", 2: "made-by-pycose", 6: int(NOW.timestamp()), 4: int((NOW + timedelta(hours=2)).timestamp()),
              7: bytes(range(10)), -65537: "green"}
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: signer.kid_bytes}, payload=cbor2.dumps(claims))
    from cryptography.hazmat.primitives import serialization

    raw_private = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    message.key = OKPKey(crv=Ed25519, d=raw_private, x=signer.public_key_raw)
    token = encode(message.encode(tag=True))
    trust = TrustStore.from_lists([parse_trust_list(_trust_list(signer), "test")], NOW, timedelta(hours=1))
    view = await verify_token(token, trust=trust, now=NOW + timedelta(minutes=5))
    assert view.valid and view.colour is Colour.GREEN and view.kid == signer.kid
