"""Telegram Mini App ``initData``: checking it, and (for the local stand-in, tests and benches) signing it.

No aiohttp here: the checks are plain functions of the string, the bot token, the public key and now.
Telegram specifies two ways (core.telegram.org/bots/webapps):

- ``hash``: HMAC-SHA256 of the data-check string (every field but ``hash``, sorted, ``key=value`` lines
  joined by ``\\n``) under the key ``HMAC-SHA256(key="WebAppData", message=bot_token)``; hex.
- ``signature``: Ed25519 over ``"<bot_id>:WebAppData\\n"`` + the same lines without ``hash`` and
  ``signature``, verifiable with Telegram's public key alone (no bot token); base64url without padding.

With our bot's token the ``hash`` decides (it covers ``signature`` too, which Telegram now sends
beside it); a string with a ``signature`` and no ``hash`` (handed on by a third party) is checked
against Telegram's public key. A present but wrong one refuses the whole string.
``auth_date`` must be at most ``max_age`` old (and not from the future, beyond a little clock skew).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Telegram's published keys for third-party validation (core.telegram.org/bots/webapps).
TELEGRAM_PUBLIC_KEY_HEX = "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
TELEGRAM_TEST_PUBLIC_KEY_HEX = "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"
MAX_INIT_DATA_BYTES = 4096  # Telegram's are a few hundred bytes; refuse anything far larger unread
CLOCK_SKEW = timedelta(minutes=5)  # an auth_date this far ahead of our clock is still accepted

# Why a string is refused: stable codes for the 401's ``reason``.
MISSING, MALFORMED, TAMPERED, STALE = "missing_init_data", "malformed_init_data", "tampered_init_data", "stale_init_data"


class InitDataError(Exception):
    """``initData`` is refused; ``reason`` is one of the codes above, ``detail`` says why in English."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class WebAppUser:
    """Only what Telegram tells us about the person who opened the app."""

    telegram_id: int
    first_name: str
    language_code: str | None


@dataclass(frozen=True, slots=True)
class InitData:
    user: WebAppUser
    auth_date: datetime
    fields: Mapping[str, str]


def telegram_public_key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(TELEGRAM_PUBLIC_KEY_HEX))


def bot_id_of(token: str) -> int:
    """The bot's numeric id: the part of its token before the colon."""
    head, _, _ = token.partition(":")
    if not head.isascii() or not head.isdigit():
        raise ValueError("a bot token looks like 123456:ABC…")
    return int(head)


def validate(raw: str | None, *, bot_token: str, now: datetime, max_age: timedelta,
             public_key: Ed25519PublicKey | None = None) -> InitData:
    """The authenticated ``initData``; raises InitDataError with the reason it is refused."""
    fields = _parse(raw)
    received_hash, signature = fields.get("hash"), fields.get("signature")
    if received_hash is None and signature is None:
        raise InitDataError(MALFORMED, "initData carries neither hash nor signature")
    if received_hash is not None and not hmac.compare_digest(received_hash.encode(), _hmac_hex(fields, bot_token).encode()):
        raise InitDataError(TAMPERED, "the hash does not match: initData was changed or signed for another bot")
    if signature is not None and received_hash is None:
        _check_signature(fields, signature, bot_id_of(bot_token), public_key or telegram_public_key())
    return _read(fields, now, max_age)


def _parse(raw: str | None) -> dict[str, str]:
    if raw is None or not raw.strip():
        raise InitDataError(MISSING, "open the app from Telegram: no initData was sent")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_INIT_DATA_BYTES:
        raise InitDataError(MALFORMED, f"initData is longer than {MAX_INIT_DATA_BYTES} bytes")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise InitDataError(MALFORMED, "initData is not a query string") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise InitDataError(MALFORMED, f"initData names {key!r} twice")
        if "\n" in key or "=" in key:
            raise InitDataError(MALFORMED, "initData has a field name Telegram never sends")
        fields[key] = value
    return fields


def check_string(fields: Mapping[str, str], *, leave_out: frozenset[str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key not in leave_out)


def _hmac_hex(fields: Mapping[str, str], bot_token: str) -> str:
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    message = check_string(fields, leave_out=frozenset({"hash"}))
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def _signed_message(fields: Mapping[str, str], bot_id: int) -> bytes:
    return f"{bot_id}:WebAppData\n{check_string(fields, leave_out=frozenset({'hash', 'signature'}))}".encode()


def _check_signature(fields: Mapping[str, str], signature: str, bot_id: int, key: Ed25519PublicKey) -> None:
    try:
        raw = base64.b64decode(signature + "=" * (-len(signature) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InitDataError(MALFORMED, "the signature is not base64url") from None
    if len(raw) != 64:
        raise InitDataError(MALFORMED, "an Ed25519 signature is 64 bytes")
    try:
        key.verify(raw, _signed_message(fields, bot_id))
    except InvalidSignature:
        raise InitDataError(TAMPERED, "the Ed25519 signature does not match Telegram's key") from None


def _read(fields: Mapping[str, str], now: datetime, max_age: timedelta) -> InitData:
    stamp = fields.get("auth_date", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise InitDataError(MALFORMED, "auth_date must be a Unix time in seconds")
    try:
        auth_date = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    except (ValueError, OverflowError, OSError):
        raise InitDataError(MALFORMED, "auth_date is out of range") from None
    if now - auth_date > max_age:
        raise InitDataError(STALE, f"initData is older than {int(max_age.total_seconds())} s: open the app again")
    if auth_date - now > CLOCK_SKEW:
        raise InitDataError(STALE, "auth_date is in the future")
    return InitData(_user(fields.get("user")), auth_date, dict(fields))


def _user(raw: str | None) -> WebAppUser:
    if raw is None:
        raise InitDataError(MALFORMED, "initData names no user (opened from an inline query or a group?)")
    try:
        user = json.loads(raw)
    except (ValueError, RecursionError):
        raise InitDataError(MALFORMED, "user must be a JSON object") from None
    if not isinstance(user, dict):
        raise InitDataError(MALFORMED, "user must be a JSON object")
    telegram_id, first_name, language = user.get("id"), user.get("first_name", ""), user.get("language_code")
    if not isinstance(telegram_id, int) or isinstance(telegram_id, bool) or not 0 < telegram_id < 2**53:
        raise InitDataError(MALFORMED, "user.id must be a positive whole number")
    if not isinstance(first_name, str) or (language is not None and not isinstance(language, str)):
        raise InitDataError(MALFORMED, "user.first_name and user.language_code must be strings")
    return WebAppUser(telegram_id, first_name[:64], language[:35] if language else None)


# -- signing: what Telegram's client does; ours for the local stand-in, the tests and the bench ----------


def sign(fields: Mapping[str, str], *, bot_token: str, signing_key: Ed25519PrivateKey | None = None) -> str:
    """``fields`` as a query string with ``hash`` (and, given a key, ``signature``) added."""
    signed = dict(fields)
    if signing_key is not None:
        raw = signing_key.sign(_signed_message(signed, bot_id_of(bot_token)))
        signed["signature"] = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signed["hash"] = _hmac_hex(signed, bot_token)
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in signed.items())


def fields_for(telegram_id: int, first_name: str, language_code: str | None, auth_date: datetime,
               query_id: str = "local") -> dict[str, str]:
    """The fields Telegram sends when a person opens the app from the bot's menu button."""
    user: dict[str, object] = {"id": telegram_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return {"query_id": query_id, "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
            "auth_date": str(int(auth_date.timestamp()))}
