"""Bad input on every URL gets a 4xx with a reason: never a 500, never a traceback. Named cases, then fuzzing."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.credentials.cwt import token_bytes
from bot.credentials.keyring import b64url_decode, b64url_encode
from storage.migrate import upgrade
from tests.handlers.conftest import Harness, start_harness, stop_harness
from tests.web.conftest import Site, start_site, stop_site

TRACEBACK_MARKERS = ("Traceback", 'File "', "Error:", "Exception")


class Server:
    """The real web server on 127.0.0.1, in its own event loop thread, so synchronous hypothesis tests can hit it."""

    def __init__(self, directory: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        url = f"sqlite+aiosqlite:///{directory / 'fuzz.db'}"
        self.call(upgrade(url))
        self.harness: Harness = self.call(start_harness(directory, url))
        self.site: Site = self.call(start_site(self.harness))
        self.url = self.site.url

    def call(self, coroutine):  # noqa: ANN001, ANN201 - test plumbing
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.call(stop_site(self.site))
        self.call(stop_harness(self.harness))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def request(self, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                method: str | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("web-fuzz"))
    yield running
    running.close()


def _assert_refused(status: int, body: bytes, *, reason: str | None = None) -> dict:
    assert 400 <= status < 500, (status, body[:200])
    text = body.decode("utf-8", "replace")
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:300]
    if body.startswith(b"{"):
        document = json.loads(body)
        assert document["reason"], document
        if reason is not None:
            assert document["reason"] == reason, document
        return document
    return {}


def _api(server: Server, credential: str) -> tuple[int, bytes]:
    return server.request("/api/v1/verify?" + urllib.parse.urlencode({"c": credential}))


def _tagged(*items: object, tag: int = 18) -> str:
    return b64url_encode(cbor2.dumps(cbor2.CBORTag(tag, list(items))))


def _good_parts(server: Server) -> list:
    from bot.credentials.cwt import issue_credential
    from rules.model import Colour

    now = server.harness.clock.now()
    token = issue_credential(server.harness.services.keyring.current_signer(), issuer="CN-330100", subject="fuzz",
                             colour=Colour.GREEN, issued_at=now, expires_at=now + timedelta(hours=5)).token
    protected, unprotected, payload, signature = cbor2.loads(token_bytes(token)).value
    return [protected, dict(unprotected), payload, signature]


def test_named_bad_credentials_are_refused_with_their_reason(server: Server) -> None:
    protected, unprotected, payload, signature = _good_parts(server)
    header = cbor2.loads(protected)
    cases = {
        "random text": ("hello world, 健康码", "malformed"),
        "random bytes": (b64url_encode(bytes(range(256)) * 3), "malformed"),
        "longer than 4 KB": ("A" * 4097, "too_long"),
        "base64 padding": ("AAAA====", "malformed"),
        "base64 standard alphabet": ("ab+/cd==", "malformed"),
        "base64 impossible length": ("A" * 5, "malformed"),
        "nesting bomb": (b64url_encode(b"\xd2" + b"\x81" * 3000 + b"\x00"), "malformed"),
        "indefinite lengths": (b64url_encode(b"\xd2\x9f\x40\xa0\x40\x40\xff"), "malformed"),
        "declared length 2**62": (b64url_encode(b"\xd2\x84\x5b" + (2 ** 62).to_bytes(8, "big")), "malformed"),
        "untagged array": (b64url_encode(cbor2.dumps([protected, unprotected, payload, signature])), "malformed"),
        "COSE_Sign tag 98": (_tagged(protected, unprotected, payload, [], tag=98), "malformed"),
        "three items": (_tagged(protected, unprotected, payload), "malformed"),
        "protected header as map": (_tagged(header, unprotected, payload, signature), "malformed"),
        "trailing bytes": (b64url_encode(b64url_decode(_tagged(protected, unprotected, payload, signature)) + b"\x00"),
                           "malformed"),
        "ES256": (_tagged(cbor2.dumps({1: -7, 4: header[4]}), unprotected, payload, signature), "unsupported_algorithm"),
        "alg as text": (_tagged(cbor2.dumps({1: "EdDSA", 4: header[4]}), unprotected, payload, signature),
                        "unsupported_algorithm"),
        "no alg": (_tagged(cbor2.dumps({4: header[4]}), unprotected, payload, signature), "malformed"),
        "kid as integer": (_tagged(cbor2.dumps({1: -8, 4: 7}), unprotected, payload, signature), "malformed"),
        "tampered kid": (_tagged(cbor2.dumps({1: -8, 4: bytes(8)}), unprotected, payload, signature), "unknown_key"),
        "kid of the right key, other bytes": (
            _tagged(cbor2.dumps({1: -8, 4: header[4], 33: 0}), unprotected, payload, signature), "signature_invalid"),
        "semantic tag in payload": (_tagged(protected, unprotected, cbor2.dumps({1: cbor2.CBORTag(1, 5)}), signature),
                                    "malformed"),
    }
    for name, (credential, reason) in cases.items():
        _assert_refused(*_api(server, credential), reason=reason)
        status, body = server.request("/api/v1/verify", body=json.dumps({"c": credential}).encode(),
                                      headers={"Content-Type": "application/json"})
        _assert_refused(status, body, reason=reason)
        if len(credential) < 6000:
            status, page = server.request("/v/" + urllib.parse.quote(credential, safe=""))
            _assert_refused(status, page)
            assert f'data-reason="{reason}"'.encode() in page, name


def test_other_urls_refuse_bad_requests_with_a_reason(server: Server) -> None:
    for path, kwargs in [
        ("/api/v1/verify", {}),
        ("/api/v1/verify", {"body": b"\xff\xfe\x00", "headers": {"Content-Type": "application/json"}}),
        ("/api/v1/verify", {"body": b"[" * 100_000, "headers": {"Content-Type": "application/json"}}),
        ("/api/v1/verify", {"body": b"x" * 2_000_000}),
        ("/api/v1/verify", {"method": "DELETE"}),
        ("/v/", {}),
        ("/.well-known/healthcode/trust-list.json", {"method": "POST", "body": b"{}"}),
        ("/.well-known/healthcode/nothing.json", {}),
        ("/telegram/webhook", {"body": b"{}"}),  # not in webhook mode
        ("/static/../bot/settings.py", {}),
        ("/no/such/page", {}),
    ]:
        status, body = server.request(path, **kwargs)
        _assert_refused(status, body)
    # Junk query strings do not disturb the plain GET endpoints.
    for path in ("/healthz?x=%ff%fe", "/metrics?format=<script>", "/.well-known/healthcode/revoked.json?c=1"):
        status, _ = server.request(path)
        assert status == 200, path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=st.one_of(
    st.text(max_size=300),
    st.binary(max_size=400).map(b64url_encode),
    st.binary(max_size=300).map(lambda raw: b64url_encode(b"\xd2\x84" + raw)),
))
def test_fuzzed_credentials_never_get_a_500(server: Server, credential: str) -> None:
    _assert_refused(*_api(server, credential))
    status, body = server.request("/api/v1/verify", body=json.dumps({"c": credential}).encode())
    _assert_refused(status, body)
    if credential.strip() and "/" not in credential and credential not in (".", ".."):
        status, body = server.request("/v/" + urllib.parse.quote(credential, safe=""))
        _assert_refused(status, body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80),
       body=st.binary(max_size=200))
def test_fuzzed_paths_and_bodies_never_get_a_500(server: Server, path: str, body: bytes) -> None:
    quoted = "/" + urllib.parse.quote(path, safe="/?=&")
    status, response = server.request(quoted)
    assert status < 500, (quoted, status, response[:200])
    status, response = server.request("/api/v1/verify", body=body)
    _assert_refused(status, response)
