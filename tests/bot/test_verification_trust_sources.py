"""Trusted issuers' lists from files and URLs: loading, caching, refreshing, and never a silent drop or use."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.credentials.keyring import KeyRing, SigningKey, b64url_encode
from bot.credentials.trust import TrustListError
from bot.credentials.trust_sources import TrustSources, parse_revocation_list

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
GRACE = timedelta(hours=24)


def _list(issuer: str = "CN-310100", *, issued_at: datetime = NOW - timedelta(hours=1),
          next_update: datetime = NOW + timedelta(days=1), signer: SigningKey | None = None) -> dict:
    signer = signer or SigningKey.from_private_key(Ed25519PrivateKey.generate())
    return {"format": "healthcode-trust-list/1", "issuer": issuer, "region": "上海市",
            "issued_at": issued_at.isoformat(), "next_update": next_update.isoformat(),
            "keys": [{"kid": signer.kid, "alg": "EdDSA", "crv": "Ed25519", "x": b64url_encode(signer.public_key_raw),
                      "not_before": (issued_at - timedelta(days=1)).isoformat(), "not_after": None}]}


class ListServer:
    """A real HTTP server on 127.0.0.1 publishing whatever ``document`` holds."""

    def __init__(self) -> None:
        self.document: object = _list()
        self.status = 200
        self.hits = 0
        app = web.Application()
        app.router.add_get("/trust-list.json", self._serve)
        self.runner = web.AppRunner(app)

    async def _serve(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = self.document if isinstance(self.document, (bytes, str)) else json.dumps(self.document)
        return web.Response(body=body, status=self.status, content_type="application/json")

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/trust-list.json"


@pytest.fixture
async def served() -> AsyncIterator[tuple[ListServer, str]]:
    server = ListServer()
    url = await server.start()
    yield server, url
    await server.runner.cleanup()


def test_file_sources_load_and_a_broken_file_stops_loading(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_list()), "utf-8")
    sources = TrustSources([str(good)], grace=GRACE)
    sources.load_local(NOW)
    assert sources.store.issuers() == ["CN-310100"] and sources.problems(NOW) == []
    broken = tmp_path / "broken.json"
    broken.write_text("{", "utf-8")
    with pytest.raises(TrustListError, match="broken.json"):
        TrustSources([str(good), str(broken)], grace=GRACE).load_local(NOW)


def test_a_source_may_not_speak_for_our_own_issuer(tmp_path: Path) -> None:
    ring = KeyRing.generate(tmp_path / "keys", NOW)
    impostor = tmp_path / "impostor.json"
    impostor.write_text(json.dumps(_list("CN-330100")), "utf-8")
    sources = TrustSources([str(impostor)], grace=GRACE)
    sources.set_own(ring, "CN-330100", "杭州市", NOW)
    with pytest.raises(TrustListError, match="our own issuer"):
        sources.load_local(NOW)
    assert list(sources.store.trust_list("CN-330100").keys) == [ring.current_signer().kid]


async def test_a_refresh_that_fails_keeps_the_list_in_use_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps(_list()), "utf-8")
    sources = TrustSources([str(path)], grace=GRACE)
    sources.load_local(NOW)
    path.write_text("not json", "utf-8")
    await sources.refresh(NOW + timedelta(hours=1))
    (status,) = sources.statuses(NOW + timedelta(hours=1))
    assert status.available and status.issuer == "CN-310100" and "cannot read" in status.error
    assert sources.store.issuers() == ["CN-310100"]
    assert sources.problems(NOW)[0].startswith("trust list refresh failed, older copy in use")


async def test_an_older_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps(_list(issued_at=NOW)), "utf-8")
    sources = TrustSources([str(path)], grace=GRACE)
    sources.load_local(NOW)
    path.write_text(json.dumps(_list(issued_at=NOW - timedelta(days=2))), "utf-8")
    await sources.refresh(NOW)
    (status,) = sources.statuses(NOW)
    assert "refusing to roll back" in status.error and status.issued_at == NOW


async def test_url_source_is_fetched_cached_and_the_cache_used_when_the_network_fails(
        served: tuple[ListServer, str], tmp_path: Path) -> None:
    server, url = served
    cache = tmp_path / "cache"
    sources = TrustSources([url], grace=GRACE, cache_dir=cache)
    sources.load_local(NOW)
    assert sources.store.issuers() == [] and "not loaded yet" in sources.problems(NOW)[0]
    await sources.refresh(NOW)
    assert sources.store.issuers() == ["CN-310100"] and sources.problems(NOW) == [] and server.hits == 1
    assert len(list(cache.glob("*.json"))) == 1
    # A restart with the issuer unreachable: the cached copy is used, marked as such.
    server.status = 503
    restarted = TrustSources([url], grace=GRACE, cache_dir=cache)
    restarted.load_local(NOW + timedelta(hours=2))
    assert restarted.store.issuers() == ["CN-310100"] and restarted.statuses(NOW)[0].from_cache
    await restarted.refresh(NOW + timedelta(hours=2))
    (status,) = restarted.statuses(NOW + timedelta(hours=2))
    assert status.available and status.error.endswith("HTTP status 503")
    # The cached list goes stale on its own schedule, and that is reported too.
    later = NOW + timedelta(days=3)
    assert restarted.statuses(later)[0].stale and restarted.store.is_stale("CN-310100", later)
    assert restarted.problems(later)[0].startswith("trust list stale: CN-310100")


@pytest.mark.parametrize(("document", "status", "message"), [
    ("not json", 200, "not JSON"),
    ({"format": "other"}, 200, "field 'format'"),
    ("x" * 1_100_000, 200, "larger than"),
    (_list(), 404, "HTTP status 404"),
])
async def test_bad_downloads_are_reported(served: tuple[ListServer, str], document: object, status: int,
                                          message: str) -> None:
    server, url = served
    server.document, server.status = document, status
    sources = TrustSources([url], grace=GRACE)
    await sources.refresh(NOW)
    assert not sources.statuses(NOW)[0].available and message in sources.statuses(NOW)[0].error


async def test_the_refresher_picks_up_a_rotated_key_ring_and_refreshes_lists(tmp_path: Path, database_url: str,
                                                                             served: tuple[ListServer, str]) -> None:
    from bot.web.server import keep_trust_fresh
    from tests.handlers.conftest import start_harness, stop_harness

    server, url = served
    harness = await start_harness(tmp_path, database_url, trusted_issuers=(url,))
    services = harness.services
    stop = asyncio.Event()
    task = asyncio.create_task(keep_trust_fresh(services, stop=stop, tick_seconds=0.02))
    harness.clock.advance(timedelta(seconds=1))
    try:
        for _ in range(200):
            if services.trust.store.issuers() == ["CN-310100", "CN-330100"]:
                break
            await asyncio.sleep(0.01)
        assert services.trust.store.issuers() == ["CN-310100", "CN-330100"]
        old = services.keyring.current_signer().kid
        ahead = timedelta(minutes=services.settings.trust_refresh_minutes)  # as `healthcode keys rotate` does
        new = KeyRing.load(services.keyring.directory).rotate(harness.clock.now(), timedelta(hours=49),
                                                              publish_ahead=ahead).kid
        for _ in range(200):
            if set(services.trust.store.trust_list("CN-330100").keys) == {old, new}:
                break
            await asyncio.sleep(0.01)
        assert set(services.trust.store.trust_list("CN-330100").keys) == {old, new}  # published at once
        assert services.keyring.current_signer().kid == old
        harness.clock.advance(timedelta(minutes=services.settings.trust_refresh_minutes))
        for _ in range(200):
            if services.keyring.current_signer().kid == new:
                break
            await asyncio.sleep(0.01)
        assert services.keyring.current_signer().kid == new  # and signs a refresh interval later
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
        await stop_harness(harness)


def test_revocation_list_format_is_checked() -> None:
    document = {"format": "healthcode-revocation-list/1", "issuer": "CN-330100", "revoked": [{"cti": "0a1b"}]}
    assert parse_revocation_list(document, "x") == ("CN-330100", frozenset({"0a1b"}))
    for broken, message in [({**document, "format": "v0"}, "format"), ({**document, "revoked": "0a1b"}, "list"),
                            ({**document, "revoked": [{"cti": "0A1B"}]}, "lower-case hex"),
                            ({**document, "issuer": ""}, "issuer")]:
        with pytest.raises(TrustListError, match=message):
            parse_revocation_list(broken, "x")


# -- issue 9, item 16: a list that could pass for our own region is refused at load --------------------

LOOKALIKES = ["CN-330100\u200b", "cn-330100", " CN-330100", "CN-330100\t", "C\u200dN-330100", "CN-330100\ufeff"]


def _own_sources(tmp_path: Path, location: str, **kwargs: object) -> TrustSources:
    sources = TrustSources([location], grace=GRACE, **kwargs)
    sources.set_own(KeyRing.generate(tmp_path / "keys", NOW), "CN-330100", "杭州市", NOW)
    return sources


@pytest.mark.parametrize("issuer", LOOKALIKES)
def test_a_file_list_imitating_our_issuer_is_refused_at_load(tmp_path: Path, issuer: str) -> None:
    path = tmp_path / "lookalike.json"
    path.write_text(json.dumps(_list(issuer)), "utf-8")
    sources = _own_sources(tmp_path, str(path))
    with pytest.raises(TrustListError) as caught:
        sources.load_local(NOW)
    message = str(caught.value)
    assert "lookalike.json" in message and ascii(issuer) in message and "our own issuer CN-330100" in message
    assert sources.store.issuers() == ["CN-330100"]
    # Without our own issuer to compare with (the offline CLI), the grammar alone refuses it.
    with pytest.raises(TrustListError, match="field 'issuer'"):
        TrustSources([str(path)], grace=GRACE).load_local(NOW)


@pytest.mark.parametrize("issuer", LOOKALIKES + ["CN-33O1OO-ÄÖ"])
async def test_a_url_list_imitating_our_issuer_or_off_grammar_is_refused_and_reported(
        served: tuple[ListServer, str], tmp_path: Path, issuer: str) -> None:
    server, url = served
    server.document = _list(issuer)
    sources = _own_sources(tmp_path, url, cache_dir=tmp_path / "cache")
    await sources.refresh(NOW)
    (status,) = sources.statuses(NOW)
    assert not status.available and ascii(issuer) in status.error
    assert sources.store.issuers() == ["CN-330100"]
    assert sources.store.trust_list("CN-330100").source == "own key ring"
    assert not list((tmp_path / "cache").glob("*.json")), "a refused list is not cached"
    assert sources.problems(NOW)[0].startswith("trust list unavailable")
