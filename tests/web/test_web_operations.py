"""/healthz and /metrics: the database, stale or missing trust lists, counts and latency histograms."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials.cwt import issue_credential
from bot.credentials.keyring import SigningKey, b64url_encode
from bot.local.chat import LocalUser
from rules.model import Colour
from storage.database import Database
from storage.encryption import FieldCipher
from tests.handlers.conftest import START, start_harness, stop_harness
from tests.web.conftest import Site, card_token, start_site, stop_site


def _metric(text: str, name: str, **labels: str) -> float | None:
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(name + ("{" + selector + "}" if selector else "")) + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else None


def foreign_list(signer: SigningKey, issuer: str, *, issued_at, next_update) -> dict:
    return {"format": "healthcode-trust-list/1", "issuer": issuer, "region": "上海市",
            "issued_at": issued_at.isoformat(), "next_update": next_update.isoformat(),
            "keys": [{"kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
                      "not_before": (issued_at - timedelta(days=30)).isoformat(), "not_after": None}]}


async def test_healthz_is_200_with_the_database_and_503_without(site: Site) -> None:
    status, body = await site.get_json("/healthz")
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok" and body["problems"] == []
    services = site.harness.services
    working = services.database
    services.database = Database(f"sqlite+aiosqlite:///{site.harness.services.settings.state_dir}/no/such/dir/x.db",
                                 FieldCipher(bytes(32)))
    try:
        status, body = await site.get_json("/healthz")
    finally:
        await services.database.dispose()
        services.database = working
    assert status == 503 and body["database"] == "unreachable" and body["status"] == "unavailable"


async def test_metrics_count_updates_declarations_and_verifications_by_result(site: Site, citizen: LocalUser) -> None:
    from bot.metrics import instrument_application

    instrument_application(site.harness.application, site.harness.services.metrics)
    token = await card_token(site.harness, citizen)
    await site.get(f"/v/{token}")
    await site.get_json(f"/api/v1/verify?c={token}")
    await site.get_json("/api/v1/verify?c=junk")
    status, text, headers = await site.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert _metric(text, "healthcode_declarations_total") == 1
    # /start, name, ID, phone, region, /checkin, temperature; agree, confirm, four answers, confirm.
    assert _metric(text, "healthcode_updates_total", kind="message") == 7
    assert _metric(text, "healthcode_updates_total", kind="callback_query") == 7
    assert _metric(text, "healthcode_update_duration_seconds_count") == sum(
        _metric(text, "healthcode_updates_total", kind=kind) or 0 for kind in ("message", "callback_query"))
    assert _metric(text, "healthcode_verifications_total", channel="web", result="valid") == 1
    assert _metric(text, "healthcode_verifications_total", channel="api", result="valid") == 1
    assert _metric(text, "healthcode_verifications_total", channel="api", result="malformed") == 1
    assert _metric(text, "healthcode_verification_duration_seconds_count", channel="api") == 2
    assert _metric(text, "healthcode_verification_duration_seconds_bucket", channel="api", le="+Inf") == 2
    assert _metric(text, "healthcode_http_requests_total", route="/api/v1/verify", status="400") == 1
    assert token not in text  # routes are patterns, never paths with credentials


async def test_a_stale_trust_list_is_reported_everywhere_and_still_used(tmp_path: Path, database_url: str) -> None:
    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    path = tmp_path / "shanghai.json"
    path.write_text(json.dumps(foreign_list(signer, "CN-310100", issued_at=START - timedelta(days=10),
                                            next_update=START - timedelta(days=9))), "utf-8")
    harness = await start_harness(tmp_path, database_url, trusted_issuers=(str(path),), trust_list_grace_hours=24)
    site = await start_site(harness)
    try:
        token = issue_credential(signer, issuer="CN-310100", subject="someone", colour=Colour.GREEN,
                                 issued_at=START, expires_at=START + timedelta(hours=30)).token
        status, result = await site.get_json(f"/api/v1/verify?c={token}")
        assert status == 200 and result["valid"] is True and result["warnings"] == ["stale_trust_list"]
        assert result["issuer_region"] == "上海市" and "masked_name" not in result
        _, page, _ = await site.get(f"/v/{token}")
        assert 'id="warning"' in page and "trust list is out of date" in page and "Shanghai (CN-310100)" in page
        status, health = await site.get_json("/healthz")
        assert status == 200 and health["status"] == "degraded" and health["stale_issuers"] == ["CN-310100"]
        assert health["trust_lists"][0]["stale"] is True and "stale" in health["problems"][0]
        _, text, _ = await site.get("/metrics")
        assert _metric(text, "healthcode_trust_list_stale", issuer="CN-310100") == 1
        assert _metric(text, "healthcode_trust_list_stale", issuer="CN-330100") == 0
        messages = await harness.say(LocalUser(40001, "Gate", "en"), f"/verify {token}")
        assert "VALID" in messages[-1].body and "out of date" in messages[-1].body
    finally:
        await stop_site(site)
        await stop_harness(harness)


async def test_an_unreachable_trust_list_url_is_reported_not_ignored(tmp_path: Path, database_url: str) -> None:
    url = "http://127.0.0.1:9/trust-list.json"  # discard port: nothing listens
    harness = await start_harness(tmp_path, database_url, trusted_issuers=(url,))
    site = await start_site(harness)
    try:
        await harness.services.trust.refresh(harness.clock.now())
        status, health = await site.get_json("/healthz")
        assert status == 200 and health["status"] == "degraded"
        assert health["trust_lists"][0]["available"] is False and url in health["problems"][0]
        _, text, _ = await site.get("/metrics")
        assert _metric(text, "healthcode_trust_source_available", source=url) == 0
        assert _metric(text, "healthcode_trust_source_up", source=url) == 0
    finally:
        await stop_site(site)
        await stop_harness(harness)


async def test_without_the_database_our_codes_get_503_not_a_guess(site: Site, citizen: LocalUser) -> None:
    token = await card_token(site.harness, citizen)
    services = site.harness.services
    working = services.database
    services.database = Database(f"sqlite+aiosqlite:///{services.settings.state_dir}/no/such/dir/x.db",
                                 FieldCipher(bytes(32)))
    services.issuer_records.invalidate()
    try:
        status, result = await site.get_json(f"/api/v1/verify?c={token}")
        assert status == 503 and result["reason"] == "unavailable"
        status, page, _ = await site.get(f"/v/{token}")
        assert status == 503 and 'data-reason="unavailable"' in page and "try again in a minute" in page
    finally:
        await services.database.dispose()
        services.database = working
    status, result = await site.get_json(f"/api/v1/verify?c={token}")
    assert status == 200 and result["valid"] is True
