"""initData as Telegram signs it: HMAC with the bot token, Ed25519 with a published key (our own pair here)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from bot.web import init_data
from bot.web.init_data import InitDataError, fields_for, sign, validate

TOKEN = "123456789:AAH-test-token-of-our-own"
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
KEY = Ed25519PrivateKey.generate()


def signed(**overrides: str) -> str:
    fields = fields_for(20001, "Alice", "en", NOW - timedelta(minutes=1))
    fields.update(overrides)
    return sign(fields, bot_token=TOKEN)


def reason(raw: str | None, **kwargs: object) -> str:
    with pytest.raises(InitDataError) as refused:
        validate(raw, bot_token=TOKEN, now=NOW, max_age=HOUR, **kwargs)  # type: ignore[arg-type]
    return refused.value.reason


def test_a_string_signed_with_the_bot_token_names_its_user() -> None:
    data = validate(signed(), bot_token=TOKEN, now=NOW, max_age=HOUR)
    assert (data.user.telegram_id, data.user.first_name, data.user.language_code) == (20001, "Alice", "en")


def test_the_hmac_follows_telegrams_recipe_step_by_step() -> None:
    import hashlib
    import hmac

    fields = dict(parse_qsl(signed()))
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert fields["hash"] == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


def test_missing_malformed_tampered_and_stale_each_get_their_reason() -> None:
    assert reason(None) == init_data.MISSING
    assert reason("  ") == init_data.MISSING
    assert reason("not a query string") == init_data.MALFORMED
    assert reason(urlencode({"user": "{}", "auth_date": "1"})) == init_data.MALFORMED  # no hash
    assert reason(signed() + "&hash=00") == init_data.MALFORMED  # a field twice
    assert reason(signed().replace("Alice", "Alicf")) == init_data.TAMPERED
    with pytest.raises(InitDataError) as other_bot:
        validate(signed(), bot_token="987:other", now=NOW, max_age=HOUR)
    assert other_bot.value.reason == init_data.TAMPERED
    old = sign(fields_for(20001, "Alice", "en", NOW - HOUR - timedelta(seconds=1)), bot_token=TOKEN)
    assert reason(old) == init_data.STALE
    future = sign(fields_for(20001, "Alice", "en", NOW + timedelta(hours=2)), bot_token=TOKEN)
    assert reason(future) == init_data.STALE
    assert reason(signed(auth_date="99999999999999")) == init_data.MALFORMED
    assert reason(signed(user="[1]")) == init_data.MALFORMED
    assert reason(signed(user=json.dumps({"id": True}))) == init_data.MALFORMED
    assert reason("a=" + "x" * 5000) == init_data.MALFORMED


def test_an_ed25519_signature_alone_is_checked_against_the_public_key() -> None:
    fields = fields_for(20001, "Alice", "en", NOW)
    both = dict(parse_qsl(sign(fields, bot_token=TOKEN, signing_key=KEY)))
    third_party = urlencode({k: v for k, v in both.items() if k != "hash"})  # as handed on without the hash
    data = validate(third_party, bot_token=TOKEN, now=NOW, max_age=HOUR, public_key=KEY.public_key())
    assert data.user.telegram_id == 20001
    # The message is "<bot_id>:WebAppData\n" + the sorted lines without hash and signature.
    message = f"123456789:WebAppData\n" + "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    import base64
    KEY.public_key().verify(base64.urlsafe_b64decode(both["signature"] + "=="), message.encode())
    other = Ed25519PrivateKey.generate().public_key()
    assert reason(third_party, public_key=other) == init_data.TAMPERED
    assert reason(third_party) == init_data.TAMPERED  # Telegram's production key did not sign our test string
    assert reason(third_party.replace("Alice", "Alicf"), public_key=KEY.public_key()) == init_data.TAMPERED
    assert reason(urlencode({**dict(parse_qsl(third_party)), "signature": "%%%"}),
                  public_key=KEY.public_key()) == init_data.MALFORMED


def test_telegrams_production_key_is_the_published_one() -> None:
    assert init_data.telegram_public_key().public_bytes_raw().hex() == (
        "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d")


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters(codec="utf-8"))
def test_changing_any_one_character_is_refused(position: int, replacement: str) -> None:
    raw = signed()
    index = position % len(raw)
    if raw[index] == replacement:
        return
    tampered = raw[:index] + replacement + raw[index + 1:]
    try:
        data = validate(tampered, bot_token=TOKEN, now=NOW, max_age=HOUR)
    except InitDataError:
        return
    # Only a change that decodes to the same fields (e.g. %41 for A) may still pass: same user, same data.
    assert dict(parse_qsl(tampered)) == dict(parse_qsl(raw)) and data.user.telegram_id == 20001


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_any_string_is_refused_with_a_reason_never_an_exception(raw: str) -> None:
    with pytest.raises(InitDataError) as refused:
        validate(raw, bot_token=TOKEN, now=NOW, max_age=HOUR)
    assert refused.value.reason in {init_data.MISSING, init_data.MALFORMED, init_data.TAMPERED, init_data.STALE}


@settings(max_examples=100, deadline=None)
@given(name=st.text(min_size=1, max_size=40), user_id=st.integers(min_value=1, max_value=2**52),
       age=st.integers(min_value=0, max_value=3600))
def test_whatever_telegram_signs_within_the_hour_is_accepted(name: str, user_id: int, age: int) -> None:
    raw = sign(fields_for(user_id, name, None, NOW - timedelta(seconds=age)), bot_token=TOKEN, signing_key=KEY)
    data = validate(raw, bot_token=TOKEN, now=NOW, max_age=HOUR)
    assert data.user.telegram_id == user_id and data.user.first_name == name[:64]
