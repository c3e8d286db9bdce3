"""Signed health-code credentials: CWT claims (RFC 8392) in a COSE_Sign1 (RFC 9052), Ed25519.

Wire format, kept small because it travels in a QR code as ``{PUBLIC_URL}/V/{token}``::

    token          = base32 (RFC 4648, upper case, no padding: only A-Z and 2-7) of the bytes below
    tagged bytes   = CBOR tag 18 ( [ protected: bstr, unprotected: {}, payload: bstr, signature: bstr(64) ] )
    protected      = CBOR map { 1 (alg): -8 (EdDSA), 4 (kid): bstr(8) }
    payload        = CBOR map { 1 iss: text, 6 iat: int, 4 exp: int, 7 cti: bstr(8),
                                -65537 (colour, private use): "green" | "yellow" | "red" }
    signature      = Ed25519 over Sig_structure ["Signature1", protected, h'', payload]

The kid in the header is the raw 8 bytes; everywhere else (key ring, trust lists, results) it is
their base64url spelling.  The unprotected header is empty: anything in it is malformed.

No claim links two credentials of one person: there is no subject, and the cti is random for each
credential (the issuer's credentials table maps it to the person).  Credentials issued before
issue 9 carried a pseudonymous subject (claim 2, text); it is still read, and means nothing.
``iss`` follows the issuer-id grammar (``bot.credentials.trust.ISSUER_ID_PATTERN``); ``iat`` and ``exp`` are
Unix seconds in [0, 2**32), and ``exp - iat`` is at most the issuer's maximum lifetime
(``invalid_lifetime`` otherwise).  A token is about 210 characters (131 bytes).

Why base32: with an upper-case URL prefix every character of the URL is in the QR alphanumeric set
(5.5 bits a character against byte mode's 8), so the symbol is version 9 at level M instead of
version 11 for base64url in byte mode, and decodes far better when blurred or small
(``bench/qr_robustness.py``).  Tokens issued before (base64url, 10-byte cti) are still read: a
tagged COSE_Sign1 starts with the byte 0xD2, which base64url spells ``0`` and base32 ``2``, and
``0`` is not a base32 character, so the two forms never overlap (:func:`token_bytes`).

Decoding treats the token as hostile: it is length-capped before anything else, decoded with a
bounded-depth CBOR decoder that refuses indefinite lengths, duplicate keys, trailing bytes and every
semantic tag (so nothing such as a regular expression is ever built from it), and each field is
type-checked.  Any failure is a :class:`CredentialError` carrying a stable reason code.
"""
from __future__ import annotations

import base64
import io
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

import cbor2
from cryptography.exceptions import InvalidSignature

from bot.credentials.keyring import MAX_CREDENTIAL_LIFETIME, SigningKey, b64url_decode, b64url_encode
from bot.credentials.trust import ISSUER_ID_RULE, TrustStore, is_issuer_id
from rules.model import Colour

MAX_TOKEN_LENGTH = 4096
CLOCK_SKEW = timedelta(minutes=2)  # how far ahead of our clock an issuer's iat may be

COSE_SIGN1_TAG = 18
HEADER_ALG = 1
HEADER_CRIT = 2
HEADER_KID = 4
ALG_EDDSA = -8
CLAIM_ISS = 1
CLAIM_SUB = 2
CLAIM_EXP = 4
CLAIM_IAT = 6
CLAIM_CTI = 7
# Private-use claim keys are those below -65536 (RFC 8392 §9.1); this is the first of them.
CLAIM_COLOUR = -65537

# Random per credential.  64 bits: among 10**8 stored credentials a collision has odds of about 3 in
# 10,000; the credentials table's primary key refuses it, that one turn fails and a retry draws anew.
DEFAULT_CTI_BYTES = 8
MAX_ISSUER_LENGTH = 32
MAX_SUBJECT_LENGTH = 64
MAX_CTI_BYTES = 32
# Times are Unix seconds that fit 32 unsigned bits (1970 to 2106): every datetime, time zone and
# other implementation handles them, and nothing real lies outside.
MAX_EPOCH_SECONDS = 2**32
_MAX_CBOR_DEPTH = 4  # tag 18 → array → unprotected map → one spare level; claims are flat

# Every semantic tag cbor2 would turn into an object.  Our format uses none but the outer 18.
_SEMANTIC_TAGS = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004, 55799)


class VerificationReason(StrEnum):
    """Stable, machine-readable verification outcomes."""

    OK = "ok"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SIGNATURE_INVALID = "signature_invalid"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_ISSUER = "unknown_issuer"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    MALFORMED = "malformed"
    TOO_LONG = "too_long"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    INVALID_LIFETIME = "invalid_lifetime"  # authentic, but exp is not after iat or beyond the issuer's maximum


WARNING_STALE_TRUST_LIST = "stale_trust_list"


class RevocationState(StrEnum):
    """What the issuing server knows about a credential id (cti)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # a newer credential replaced it (e.g. the colour changed)


class CredentialError(Exception):
    """A token that cannot be decoded; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: VerificationReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    token: str
    cti_hex: str
    kid: str
    issued_at: datetime
    expires_at: datetime
    colour: Colour


@dataclass(frozen=True, slots=True)
class DecodedCredential:
    """A structurally valid credential whose signature has NOT been checked yet."""

    kid: str
    issuer: str
    subject: str | None  # only in credentials issued before issue 9
    colour: Colour
    issued_at: datetime
    expires_at: datetime
    cti: bytes
    protected: bytes
    payload: bytes
    signature: bytes

    @property
    def cti_hex(self) -> str:
        return self.cti.hex()

    @property
    def signed_bytes(self) -> bytes:
        """The RFC 9052 Sig_structure for COSE_Sign1, over the bytes exactly as received."""
        return _sig_structure(self.protected, self.payload)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of verifying a token.

    ``issuer`` and ``kid`` are as claimed by the token whenever it decoded.  ``colour``, ``subject``,
    ``iat``, ``exp`` and ``cti`` are set only once the signature has verified (so they are authentic
    even when the credential is expired or revoked) and are None before that.
    """

    valid: bool
    reason: VerificationReason
    checked_at: datetime
    colour: Colour | None = None
    issuer: str | None = None
    kid: str | None = None
    iat: datetime | None = None
    exp: datetime | None = None
    cti: str | None = None  # hex
    subject: str | None = None
    warnings: tuple[str, ...] = ()
    detail: str = ""  # human-readable explanation for operators; never personal data


class _Authentic(TypedDict):
    """What a verified signature vouches for, by VerificationResult's field names."""

    colour: Colour
    iat: datetime
    exp: datetime
    cti: str
    subject: str | None


# -- issuing ----------------------------------------------------------------------------------


def issue_credential(
    signer: SigningKey,
    *,
    issuer: str,
    colour: Colour,
    issued_at: datetime,
    expires_at: datetime,
    cti: bytes | None = None,
    subject: str | None = None,
) -> IssuedCredential:
    """Sign a credential.  Times are truncated to whole seconds, as they are encoded.

    ``subject`` writes the claim older credentials carried: only to reproduce that format (tests,
    conformance vectors).  The issuer never passes one: it would link a person's credentials.
    """
    if not is_issuer_id(issuer):
        raise ValueError(f"issuer must be an issuer id: {ISSUER_ID_RULE}")
    if subject is not None:
        _require_text("subject", subject, MAX_SUBJECT_LENGTH)
    iat, exp = _epoch_seconds("issued_at", issued_at), _epoch_seconds("expires_at", expires_at)
    if exp <= iat:
        raise ValueError("expires_at must be at least one second after issued_at")
    if cti is None:
        cti = secrets.token_bytes(DEFAULT_CTI_BYTES)
    elif not isinstance(cti, bytes) or not 1 <= len(cti) <= MAX_CTI_BYTES:
        raise ValueError(f"cti must be 1-{MAX_CTI_BYTES} bytes")
    protected = cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: signer.kid_bytes}, canonical=True)
    claims: dict[int, Any] = {
        CLAIM_ISS: issuer,
        CLAIM_IAT: iat,
        CLAIM_EXP: exp,
        CLAIM_CTI: cti,
        CLAIM_COLOUR: Colour(colour).value,
    }
    if subject is not None:
        claims[CLAIM_SUB] = subject
    payload = cbor2.dumps(claims, canonical=True)
    signature = signer.sign(_sig_structure(protected, payload))
    message = cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature])
    return IssuedCredential(
        token=encode_token(cbor2.dumps(message, canonical=True)),
        cti_hex=cti.hex(),
        kid=signer.kid,
        issued_at=_from_epoch(iat),
        expires_at=_from_epoch(exp),
        colour=Colour(colour),
    )


def expiry_for(now: datetime, tz: ZoneInfo) -> datetime:
    """End of the next local day: local midnight two days after today's local date, in UTC.

    Never more than MAX_CREDENTIAL_LIFETIME after ``now`` (a clock change can make two local days
    49 hours long): verification refuses our credentials that claim longer.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    midnight = datetime.combine(today + timedelta(days=2), time(0), tzinfo=tz).astimezone(timezone.utc)
    return min(midnight, now.astimezone(timezone.utc).replace(microsecond=0) + MAX_CREDENTIAL_LIFETIME)


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def _require_text(name: str, value: str, max_length: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > max_length:
        raise ValueError(f"{name} must be at most {max_length} characters (it goes into a QR code)")


def _epoch_seconds(name: str, instant: datetime) -> int:
    if not isinstance(instant, datetime) or instant.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    seconds = int(instant.timestamp())
    if not 0 <= seconds < MAX_EPOCH_SECONDS:
        raise ValueError(f"{name} must lie between 1970 and 2106")
    return seconds


def _from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


# -- the token's text ---------------------------------------------------------------------------

_BASE32_TOKEN = re.compile(r"[A-Z2-7]+")


def encode_token(raw: bytes) -> str:
    """The token for the tagged COSE_Sign1 bytes: base32, upper case, no padding."""
    return base64.b32encode(raw).rstrip(b"=").decode("ascii")


def is_compact_token(token: str) -> bool:
    """Whether ``token`` is in the base32 form (else it can only be the older base64url one)."""
    return _BASE32_TOKEN.fullmatch(token) is not None


def token_bytes(token: str) -> bytes:
    """The COSE bytes of a token in either form; ValueError if it is neither, strictly.

    Strict means one spelling per value: no padding, no lower case, no unused trailing bits.
    """
    if not is_compact_token(token):
        return b64url_decode(token)
    if len(token) % 8 in (1, 3, 6):  # lengths no byte string has in base32
        raise ValueError("not base32 without padding")
    raw = base64.b32decode(token + "=" * (-len(token) % 8))
    if encode_token(raw) != token:
        raise ValueError("non-canonical base32")
    return raw


# -- decoding ---------------------------------------------------------------------------------


def decode_credential(token: str) -> DecodedCredential:
    """Parse a token without checking its signature; raises CredentialError on anything odd."""
    if not isinstance(token, str):
        raise CredentialError(VerificationReason.MALFORMED, "token must be text")
    if len(token) > MAX_TOKEN_LENGTH:
        raise CredentialError(VerificationReason.TOO_LONG, f"token longer than {MAX_TOKEN_LENGTH} characters")
    try:
        raw = token_bytes(token)
    except ValueError:
        raise CredentialError(VerificationReason.MALFORMED,
                              "token is neither base32 nor base64url without padding") from None
    message = _strict_cbor(raw, "COSE_Sign1")
    if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
        raise CredentialError(VerificationReason.MALFORMED, "token is not a CBOR tag 18 (COSE_Sign1)")
    parts = message.value
    if not isinstance(parts, (list, tuple)) or len(parts) != 4:  # tuple: cbor2 freezes tagged content
        raise CredentialError(VerificationReason.MALFORMED, "COSE_Sign1 must be an array of 4 items")
    protected, unprotected, payload, signature = parts
    if not isinstance(protected, bytes) or not isinstance(unprotected, Mapping):
        raise CredentialError(VerificationReason.MALFORMED, "COSE_Sign1 headers must be a bstr and a map")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CredentialError(VerificationReason.MALFORMED, "COSE_Sign1 payload and signature must be bstr")
    if unprotected:
        # Not covered by the signature: anything here (an alg, a second kid) could be swapped freely.
        raise CredentialError(VerificationReason.MALFORMED, "the unprotected header must be empty")
    kid = _read_protected_header(protected)
    claims = _strict_cbor(payload, "payload")
    if not isinstance(claims, dict):
        raise CredentialError(VerificationReason.MALFORMED, "payload must be a CBOR map of claims")
    return DecodedCredential(
        kid=kid,
        issuer=_issuer_claim(claims),
        subject=_text_claim(claims, CLAIM_SUB, "sub", MAX_SUBJECT_LENGTH) if CLAIM_SUB in claims else None,
        colour=_colour_claim(claims),
        issued_at=_time_claim(claims, CLAIM_IAT, "iat"),
        expires_at=_time_claim(claims, CLAIM_EXP, "exp"),
        cti=_cti_claim(claims),
        protected=protected,
        payload=payload,
        signature=signature,
    )


def _reject_semantic_tag(value: Any, immutable: bool) -> Any:
    raise cbor2.CBORDecodeError("semantic tags are not allowed in credentials")


_STRICT_DECODERS = {tag: _reject_semantic_tag for tag in _SEMANTIC_TAGS}


def _strict_cbor(data: bytes, what: str) -> Any:
    stream = io.BytesIO(data)
    try:
        decoder = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_STRICT_DECODERS,
            read_size=1,  # so the stream position tells whether bytes trail the item
            max_depth=_MAX_CBOR_DEPTH,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
        value = decoder.decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError) as error:
        cause = str(error)[:120]  # the decoder's own words help operators; the token holds no personal data
        detail = f"{what} is not valid CBOR for a credential: {cause}"
        raise CredentialError(VerificationReason.MALFORMED, detail) from None
    if stream.tell() != len(data):
        raise CredentialError(VerificationReason.MALFORMED, f"{what} has trailing bytes")
    return value


def _read_protected_header(protected: bytes) -> str:
    header = _strict_cbor(protected, "protected header")
    if not isinstance(header, dict):
        raise CredentialError(VerificationReason.MALFORMED, "protected header must be a CBOR map")
    if HEADER_CRIT in header:
        raise CredentialError(VerificationReason.MALFORMED, "protected header: critical parameters are not supported")
    if HEADER_ALG not in header:
        raise CredentialError(VerificationReason.MALFORMED, "protected header: alg (1) is missing")
    if header[HEADER_ALG] != ALG_EDDSA or type(header[HEADER_ALG]) is not int:
        raise CredentialError(VerificationReason.UNSUPPORTED_ALGORITHM, "protected header: alg must be -8 (EdDSA)")
    kid = header.get(HEADER_KID)
    if not isinstance(kid, bytes) or not kid:
        raise CredentialError(VerificationReason.MALFORMED, "protected header: kid (4) is missing or not a bstr")
    return b64url_encode(kid)


def _text_claim(claims: dict[Any, Any], key: int, name: str, max_length: int) -> str:
    value = claims.get(key)
    if not isinstance(value, str) or not value or len(value) > max_length:
        detail = f"claim {name} ({key}) must be text of 1-{max_length} characters"
        raise CredentialError(VerificationReason.MALFORMED, detail)
    return value


def _issuer_claim(claims: dict[Any, Any]) -> str:
    issuer = _text_claim(claims, CLAIM_ISS, "iss", MAX_ISSUER_LENGTH)
    if not is_issuer_id(issuer):
        raise CredentialError(VerificationReason.MALFORMED, f"claim iss ({CLAIM_ISS}) must be an issuer id: "
                                                            f"{ISSUER_ID_RULE}")
    return issuer


def _time_claim(claims: dict[Any, Any], key: int, name: str) -> datetime:
    value = claims.get(key)
    if type(value) is not int:  # bool is an int subclass; floats are not used by this format
        raise CredentialError(VerificationReason.MALFORMED, f"claim {name} ({key}) must be an integer")
    if not 0 <= value < MAX_EPOCH_SECONDS:
        # The year 9999 fits a datetime but not its local time: it must not get as far as a page.
        detail = f"claim {name} ({key}) is out of range (Unix seconds from 0 to 2**32, 1970 to 2106)"
        raise CredentialError(VerificationReason.MALFORMED, detail)
    return _from_epoch(value)


def _cti_claim(claims: dict[Any, Any]) -> bytes:
    value = claims.get(CLAIM_CTI)
    if not isinstance(value, bytes) or not 1 <= len(value) <= MAX_CTI_BYTES:
        raise CredentialError(VerificationReason.MALFORMED, f"claim cti ({CLAIM_CTI}) must be 1-{MAX_CTI_BYTES} bytes")
    return value


def _colour_claim(claims: dict[Any, Any]) -> Colour:
    value = claims.get(CLAIM_COLOUR)
    try:
        return Colour(value)  # type: ignore[arg-type]  # any CBOR value: the enum refuses what is not a colour
    except (ValueError, TypeError):
        raise CredentialError(
            VerificationReason.MALFORMED, f"claim colour ({CLAIM_COLOUR}) must be one of green, yellow, red"
        ) from None


# -- verification -----------------------------------------------------------------------------


def verify_credential(
    token: str,
    trust: TrustStore,
    now: datetime,
    revoked: Callable[[str], RevocationState] | None = None,
) -> VerificationResult:
    """Verify a token against the trust store at ``now``.

    Checks, first failure wins: decode → issuer known → kid among that issuer's keys → key valid at
    iat → signature → lifetime (exp after iat, by at most the issuer's maximum) → iat not in the
    future → not expired → revocation (``revoked(cti_hex)``).
    A kid that exists only in another issuer's list is ``unknown_key``: a key not of the issuer.
    A kid whose key was not valid at the credential's iat is also ``unknown_key``.
    Errors raised by ``revoked`` (e.g. a database outage) propagate: that is not a verdict.
    """
    try:
        decoded = decode_credential(token)
    except CredentialError as error:
        return VerificationResult(valid=False, reason=error.reason, checked_at=now, detail=error.detail)

    trust_list = trust.trust_list(decoded.issuer)
    if trust_list is None:
        return VerificationResult(
            valid=False, reason=VerificationReason.UNKNOWN_ISSUER, checked_at=now,
            issuer=decoded.issuer, kid=decoded.kid, detail="issuer is not in any trust list",
        )
    warnings = (WARNING_STALE_TRUST_LIST,) if trust.is_stale(decoded.issuer, now) else ()

    def fail(reason: VerificationReason, detail: str, **authentic: Any) -> VerificationResult:
        return VerificationResult(
            valid=False, reason=reason, checked_at=now, issuer=decoded.issuer, kid=decoded.kid,
            warnings=warnings, detail=detail, **authentic,
        )

    key = trust_list.keys.get(decoded.kid)
    if key is None:
        return fail(VerificationReason.UNKNOWN_KEY, "key not of the issuer: kid is not in the issuer's trust list")
    if not key.valid_at(decoded.issued_at):
        return fail(VerificationReason.UNKNOWN_KEY, "the issuer's key was not valid at the credential's issue time")
    try:
        key.public_key.verify(decoded.signature, decoded.signed_bytes)
    except (InvalidSignature, ValueError):
        return fail(VerificationReason.SIGNATURE_INVALID, "signature does not match the issuer's key")
    authentic: _Authentic = {
        "colour": decoded.colour,
        "iat": decoded.issued_at,
        "exp": decoded.expires_at,
        "cti": decoded.cti_hex,
        "subject": decoded.subject,
    }
    lifetime = decoded.expires_at - decoded.issued_at
    if not timedelta(0) < lifetime <= trust_list.max_lifetime:
        detail = f"lifetime {lifetime} is outside what the issuer may sign (up to {trust_list.max_lifetime})"
        return fail(VerificationReason.INVALID_LIFETIME, detail, **authentic)
    if decoded.issued_at > now + CLOCK_SKEW:
        return fail(VerificationReason.NOT_YET_VALID, "issued in the future", **authentic)
    if decoded.expires_at <= now:
        return fail(VerificationReason.EXPIRED, "expired", **authentic)
    state = RevocationState(revoked(decoded.cti_hex)) if revoked is not None else RevocationState.ACTIVE
    if state is RevocationState.REVOKED:
        return fail(VerificationReason.REVOKED, "revoked by the issuer", **authentic)
    if state is RevocationState.SUPERSEDED:
        return fail(VerificationReason.SUPERSEDED, "replaced by a newer credential", **authentic)
    return VerificationResult(
        valid=True, reason=VerificationReason.OK, checked_at=now, issuer=decoded.issuer, kid=decoded.kid,
        warnings=warnings, detail="", **authentic,
    )
