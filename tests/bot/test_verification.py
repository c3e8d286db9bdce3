"""The verification use case: token extraction, own records (name, supersession, revocation), the cache."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials.cwt import RevocationState, VerificationReason, issue_credential
from bot.i18n import Catalogue
from bot.credentials.keyring import SigningKey, b64url_encode
from bot.services.verification_records import IssuerRecordCache
from bot.services.verification import (
    OwnRecord,
    VerificationUnavailable,
    describe,
    extract_token,
    issuer_region_name,
    verify_token,
)
from bot.credentials.trust import TrustStore, parse_trust_list

from rules.model import Colour

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _signer() -> SigningKey:
    return SigningKey.from_private_key(Ed25519PrivateKey.generate())


def _store(*issuers: tuple[str, SigningKey]) -> TrustStore:
    lists = [parse_trust_list({
        "format": "healthcode-trust-list/1", "issuer": issuer, "region": f"region of {issuer}",
        "issued_at": (NOW - timedelta(days=1)).isoformat(), "next_update": (NOW + timedelta(days=1)).isoformat(),
        "keys": [{"kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
                  "not_before": (NOW - timedelta(days=1)).isoformat(), "not_after": None}]}, issuer)
        for issuer, signer in issuers]
    return TrustStore.from_lists(lists, NOW, timedelta(hours=1))


def _token(signer: SigningKey, issuer: str = "CN-330100", colour: Colour = Colour.GREEN) -> tuple[str, str]:
    issued = issue_credential(signer, issuer=issuer, subject="s", colour=colour, issued_at=NOW,
                              expires_at=NOW + timedelta(hours=30))
    return issued.token, issued.cti_hex


@pytest.mark.parametrize(("text", "expected"), [
    ("abc", "abc"),
    ("  abc\n", "abc"),
    ("https://hc.example.cn/v/abc", "abc"),
    ("https://hc.example.cn/v/abc?lang=en#top", "abc"),
    ("http://127.0.0.1:8080/v/abc/", "abc"),
    ("https://x/v/one/v/two", "two"),
])
def test_extract_token(text: str, expected: str) -> None:
    assert extract_token(text) == expected


def test_issuer_region_name_is_localised_for_known_codes_and_published_otherwise() -> None:
    assert issuer_region_name("CN-310100", "上海市", "en") == "Shanghai"
    assert issuer_region_name("CN-310100", "上海市", "zh-CN") == "上海市"
    assert issuer_region_name("XX-000001", "Somewhere", "en") == "Somewhere"
    assert issuer_region_name("CN-310100", None, "en") is None  # not trusted: no region claimed for it


async def test_own_valid_credential_gets_the_masked_name_and_foreign_ones_are_not_looked_up() -> None:
    ours, theirs = _signer(), _signer()
    store = _store(("CN-330100", ours), ("CN-310100", theirs))
    looked_up: list[str] = []

    async def records(cti: str) -> OwnRecord | None:
        looked_up.append(cti)
        return OwnRecord(RevocationState.ACTIVE, masked_name="张*")

    token, cti = _token(ours)
    view = await verify_token(token, trust=store, now=NOW, own_issuer="CN-330100", records=records)
    assert view.valid and view.masked_name == "张*" and view.own_issuer and looked_up == [cti]
    foreign, _ = _token(theirs, issuer="CN-310100")
    view = await verify_token(foreign, trust=store, now=NOW, own_issuer="CN-330100", records=records)
    assert view.valid and view.masked_name is None and not view.own_issuer and looked_up == [cti]
    assert view.issuer_region == "region of CN-310100"


@pytest.mark.parametrize(("record", "reason"), [
    (OwnRecord(RevocationState.REVOKED), VerificationReason.REVOKED),
    (OwnRecord(RevocationState.SUPERSEDED), VerificationReason.SUPERSEDED),
])
async def test_withdrawn_own_credentials(record: OwnRecord, reason: VerificationReason) -> None:
    signer = _signer()
    token, _ = _token(signer)

    async def records(cti: str) -> OwnRecord:
        return record

    view = await verify_token(token, trust=_store(("CN-330100", signer)), now=NOW, own_issuer="CN-330100",
                              records=records)
    assert not view.valid and view.reason is reason
    assert "current_colour" not in view.to_json()  # issue 9, item 13: an old QR tells nothing of the code now
    assert view.colour is Colour.GREEN and view.masked_name is None
    assert view.to_json()["reason"] == reason.value


async def test_a_database_failure_is_not_a_verdict() -> None:
    signer = _signer()
    token, _ = _token(signer)

    async def broken(cti: str) -> OwnRecord:
        raise ConnectionError("database is down")

    with pytest.raises(VerificationUnavailable, match="ConnectionError"):
        await verify_token(token, trust=_store(("CN-330100", signer)), now=NOW, own_issuer="CN-330100",
                           records=broken)


async def test_revocation_lists_apply_to_their_own_issuer_only() -> None:
    a, b = _signer(), _signer()
    store = _store(("CN-330100", a), ("CN-310100", b))
    token, cti = _token(a)
    assert (await verify_token(token, trust=store, now=NOW, revoked={"CN-330100": {cti}})).reason == "revoked"
    assert (await verify_token(token, trust=store, now=NOW, revoked={"CN-310100": {cti}})).valid


async def test_cache_keeps_lookups_for_the_ttl_and_shares_concurrent_ones() -> None:
    clock = [100.0]
    cache = IssuerRecordCache(ttl_seconds=2.0, monotonic=lambda: clock[0])
    loads = 0

    async def load() -> OwnRecord:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return OwnRecord(RevocationState.ACTIVE, masked_name=f"load {loads}")

    first, second = await asyncio.gather(cache.lookup("c1", load), cache.lookup("c1", load))
    assert first == second and loads == 1
    clock[0] += 1.9
    assert (await cache.lookup("c1", load)).masked_name == "load 1"
    clock[0] += 0.2
    assert (await cache.lookup("c1", load)).masked_name == "load 2"
    cache.invalidate()
    assert len(cache) == 0 and (await cache.lookup("c1", load)).masked_name == "load 3"


async def test_cache_does_not_keep_a_lookup_that_raced_a_write() -> None:
    cache = IssuerRecordCache(ttl_seconds=60)

    async def load_during_a_write() -> OwnRecord:
        cache.invalidate()  # a write lands while the lookup is reading
        return OwnRecord(RevocationState.ACTIVE)

    await cache.lookup("c1", load_during_a_write)
    assert len(cache) == 0


async def test_cache_is_emptied_by_writes_to_the_credentials_table(database_url: str) -> None:
    from storage.database import Database
    from storage.encryption import FieldCipher

    database = Database(database_url, FieldCipher(bytes(range(32))))
    cache = IssuerRecordCache(ttl_seconds=60)
    cache.watch(database)
    try:
        async def load() -> None:
            return None

        await cache.lookup("c1", load)
        assert len(cache) == 1
        async with database.unit_of_work() as uow:  # a read does not disturb it
            await uow.credentials.get("c1")
        assert len(cache) == 1
        generation = cache.generation
        async with database.unit_of_work() as uow:
            await uow.credentials.set_file_id("c1", "file")
        assert len(cache) == 0 and cache.generation > generation
    finally:
        await database.dispose()


def test_describe_renders_every_part_in_both_languages() -> None:
    from bot.services.verification import VerificationView

    view = VerificationView(valid=False, reason=VerificationReason.SUPERSEDED, checked_at=NOW, colour=Colour.GREEN,
                            issuer="CN-310100", issuer_region="上海市", kid="k", iat=NOW, exp=NOW + timedelta(hours=5),
                            warnings=("stale_trust_list",))
    catalogue = Catalogue("en")
    english = [catalogue.render("en", part) for part in describe(view, language="en", tz=SHANGHAI)]
    assert english == [
        "❌ NOT VALID: superseded: this code was replaced; ask the holder for their current code",
        "Issuer: Shanghai (CN-310100)",
        "Issued 2026-03-02 09:00 · valid until 2026-03-02 14:00",
        "⚠️ The trust list of CN-310100 is out of date (past its next update): "
        "a key change may not be known here yet.",
        "Checked 2026-03-02 09:00:00",
    ]
    chinese = [catalogue.render("zh-CN", part) for part in describe(view, language="zh-CN", tz=SHANGHAI)]
    assert chinese[0] == "❌ 无效：已被取代：请持码人出示当前的健康码" and chinese[1] == "签发地：上海市（CN-310100）"
    assert not any("黄码" in part for part in chinese)


# -- the compact form: base32 behind an upper-case /V/ URL, and the older base64url form ----------

def test_compact_credential_url_is_upper_case_and_keeps_a_paths_case() -> None:
    from bot.services.verification import credential_url

    assert credential_url("https://hc.example.cn", "2KCEABC") == "HTTPS://HC.EXAMPLE.CN/V/2KCEABC"
    assert credential_url("http://127.0.0.1:8080", "2KCEABC") == "HTTP://127.0.0.1:8080/V/2KCEABC"
    assert credential_url("https://example.cn/hc", "2KCEABC") == "HTTPS://EXAMPLE.CN/hc/V/2KCEABC"
    # A credential issued before the compact form keeps the URL (and so the picture) it had.
    assert credential_url("https://hc.example.cn", "0oRNogEn_x") == "https://hc.example.cn/v/0oRNogEn_x"


@pytest.mark.parametrize("url_of", [
    lambda token: f"HTTPS://HC.EXAMPLE.CN/V/{token}",
    lambda token: f"https://hc.example.cn/v/{token}",
    lambda token: f"https://HC.example.cn/V/{token}?lang=en",
])
async def test_both_forms_verify_behind_either_path(url_of) -> None:
    from bot.credentials.cwt import token_bytes
    from bot.credentials.keyring import b64url_encode

    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    trust = _store(("CN-330100", signer))
    compact = issue_credential(signer, issuer="CN-330100", colour=Colour.GREEN, issued_at=NOW,
                               expires_at=NOW + timedelta(hours=30)).token
    legacy = b64url_encode(token_bytes(compact))
    assert compact[0] == "2" and legacy[0] == "0"  # 0xD2 (tag 18) spelt in each alphabet
    for token in (compact, legacy):
        view = await verify_token(url_of(token), trust=trust, now=NOW)
        assert view.valid and view.kid == signer.kid, token


@pytest.mark.parametrize("spelling", ["lower case", "padded", "non-canonical tail"])
async def test_a_base32_token_has_one_spelling(spelling: str) -> None:
    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    token = issue_credential(signer, issuer="CN-330100", colour=Colour.GREEN, issued_at=NOW,
                             expires_at=NOW + timedelta(hours=30)).token
    altered = {"lower case": token.lower(), "padded": token + "=" * (-len(token) % 8 or 8),
               "non-canonical tail": token[:-1] + ("7" if token[-1] != "7" else "6")}[spelling]
    view = await verify_token(altered, trust=_store(("CN-330100", signer)), now=NOW)
    assert not view.valid and view.reason.value in {"malformed", "signature_invalid"}
