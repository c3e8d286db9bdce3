"""The whole HTTP surface (every route of bot/web/app.py plus the webhook) on hostile requests: never a 500.

Requests are written as raw bytes on a socket, so nothing a client library would tidy up (non-ASCII
header bytes, a Content-Encoding that lies, odd methods) is out of reach.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import zlib
from urllib.parse import quote, urlencode
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.runners.webhook import SECRET_HEADER, WebhookService
from storage.migrate import upgrade
from tests.handlers.conftest import START, make_settings

# Every route, with its own method: (method, path).
ROUTES = (("GET", "/v/AAAA"), ("GET", "/v/"), ("GET", "/api/v1/verify"), ("POST", "/api/v1/verify"),
          ("GET", "/.well-known/healthcode/trust-list.json"), ("GET", "/.well-known/healthcode/revoked.json"),
          ("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/static/page.css"), ("POST", "/telegram/webhook"),
          ("GET", "/no/such/page"))
_BODY_ROUTES = (("POST", "/api/v1/verify"), ("POST", "/telegram/webhook"))


class WebhookServer:
    """The webhook service (web routes + webhook) in its own event loop thread, for synchronous hypothesis tests."""

    def __init__(self, directory: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._start(directory))

    async def _start(self, directory: Path) -> None:
        url = f"sqlite+aiosqlite:///{directory / 'fuzz.db'}"
        await upgrade(url)
        clock = ManualClock(START)
        settings_ = make_settings(directory, url, webhook_url="https://hc.example.cn")
        self.services = await create_services(settings_, clock, local=True)
        self.api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
        self.service = WebhookService(self.services, build_application(self.services, request=self.api),
                                      host="127.0.0.1", port=0)
        await self.service.start()
        self.port = self.service.server.port

    async def _stop(self) -> None:
        await self.service.stop()
        await self.services.database.dispose()

    def call(self, coroutine):  # noqa: ANN001, ANN201 - test plumbing
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def send(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bytes]:
        """One raw HTTP/1.1 request; the status code and body of the answer."""
        head = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
                *(name + b": " + value for name, value in headers), b"Content-Length: %d" % len(body)]
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as connection:
            connection.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1."), answer[:200]
        return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebhookServer]:
    running = WebhookServer(tmp_path_factory.mktemp("http-fuzz"))
    yield running
    running.close()


def _json_headers(*extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    return [(b"Content-Type", b"application/json"), *extra]


def test_an_integer_too_long_for_python_is_a_bad_request(server: WebhookServer) -> None:
    huge = b'{"c": ' + b"9" * 5000 + b"}"
    status, body = server.send(b"POST", b"/api/v1/verify", _json_headers(), huge)
    assert status == 400 and json.loads(body)["reason"] == "bad_request"
    secret = server.service.secret.encode()
    status, _ = server.send(b"POST", b"/telegram/webhook", _json_headers((SECRET_HEADER.encode(), secret)),
                            b'{"update_id": ' + b"1" * 5000 + b"}")
    assert status == 400


@pytest.mark.parametrize("route", [b"/api/v1/verify", b"/telegram/webhook"])
def test_a_body_that_is_not_what_its_content_encoding_says_is_a_bad_request(server: WebhookServer,
                                                                            route: bytes) -> None:
    secret = (SECRET_HEADER.encode(), server.service.secret.encode())
    for encoding, body in [(b"deflate", b"not deflate at all"), (b"gzip", b"\x1f\x8b garbage"),
                           (b"deflate", zlib.compress(b'{"c": "x"}')[:-3])]:
        status, _ = server.send(b"POST", route, _json_headers((b"Content-Encoding", encoding), secret), body)
        assert 400 <= status < 500, (encoding, body, status)


def test_a_secret_header_with_non_ascii_bytes_is_forbidden(server: WebhookServer) -> None:
    update = json.dumps({"update_id": 5, "message": {}}).encode()
    for secret in ("密钥".encode(), b"\xff\xfe", server.service.secret.encode() + b"\xc3\xa9", b"\x80"):
        status, _ = server.send(b"POST", b"/telegram/webhook", _json_headers((SECRET_HEADER.encode(), secret)), update)
        assert status == 403, secret


# -- fuzzing: random methods, paths, query strings, headers, bodies and encodings --------------------

_NO_LINE_BREAKS = st.binary(max_size=40).map(lambda raw: raw.replace(b"\r", b"").replace(b"\n", b""))
_TOKEN = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    | st.sampled_from(["HUGE-INTEGER", "/start", "AAAA", "https://hc.example.cn/v/AAAA"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["c", "credential", "update_id", "message", "text", "from", "chat", "id", "date"])
        | st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


def _json_bytes(value: object) -> bytes:
    # An integer over Python's 4,300-digit limit cannot be dumped, so it is written in afterwards.
    return json.dumps(value, allow_nan=True).encode().replace(b'"HUGE-INTEGER"', b"9" * 5000)


def _update(update_id: int, text: str, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "F", "language_code": "en"}
    return {"update_id": update_id, "message": {"message_id": 1, "date": int(START.timestamp()), "from": user,
                                                "chat": {"id": user_id, "type": "private"}, "text": text}}


_bodies = st.one_of(
    st.binary(max_size=300),
    _json_values.map(_json_bytes),
    st.builds(_update, st.integers(min_value=10 ** 6, max_value=2 ** 62), st.text(max_size=30),
              st.integers(min_value=1, max_value=2 ** 40)).map(_json_bytes),
)
_encodings = st.sampled_from(["", "identity", "gzip", "deflate", "br", "x-unknown", "gzip, deflate"])


def _encode(body: bytes, encoding: str, honest: bool) -> bytes:
    if not honest:
        return body
    if encoding == "gzip":
        return zlib.compress(body, wbits=31)
    if encoding == "deflate":
        return zlib.compress(body)
    return body


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]:
    # Mostly a route's own method and exact path (the bodies matter there), sometimes anything.
    own_method, path = draw(st.sampled_from(_BODY_ROUTES) | st.sampled_from(ROUTES))
    method = draw(st.just(own_method) | st.just(own_method)
                  | st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]) | _TOKEN).encode()
    target = path.encode()
    if draw(st.integers(0, 3)) == 0:
        target += draw(st.text(max_size=20).map(lambda t: quote(t, safe="/").encode())
                       | _NO_LINE_BREAKS.map(lambda raw: raw.replace(b" ", b"")))
    if draw(st.booleans()):
        target += b"?" + draw(st.dictionaries(st.sampled_from(["c", "lang", "x"]) | st.text(max_size=5),
                                              st.text(max_size=40), max_size=3).map(lambda q: urlencode(q).encode())
                              | _NO_LINE_BREAKS.map(lambda raw: raw.replace(b" ", b"")))
    encoding = draw(_encodings)
    headers: list[tuple[bytes, bytes]] = []
    if encoding:
        headers.append((b"Content-Encoding", encoding.encode()))
    secret = draw(st.sampled_from(["right", "none", "random"]))
    if secret != "none":
        headers.append((SECRET_HEADER.encode(), b"RIGHT" if secret == "right" else draw(_NO_LINE_BREAKS)))
    names = st.sampled_from([b"Content-Type", b"Accept-Language", b"Accept", b"Cookie", b"X-Forwarded-For",
                             b"Accept-Encoding", b"If-None-Match", b"Range"]) | _TOKEN.map(str.encode)
    headers += draw(st.lists(st.tuples(names, _NO_LINE_BREAKS | st.sampled_from(
        [b"application/json", b"text/plain; charset=utf-8", b"en", b"zh-CN;q=0.5", b"bytes=0-1"])), max_size=4))
    body = _encode(draw(_bodies), encoding, draw(st.booleans()))
    return method, target, headers, body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_no_request_gets_a_500(server: WebhookServer, request: tuple[bytes, bytes, list, bytes]) -> None:
    method, target, headers, body = request
    secret = server.service.secret.encode()
    headers = [(name, secret if value == b"RIGHT" and name == SECRET_HEADER.encode() else value)
               for name, value in headers]
    status, answer = server.send(method, target, headers, body)
    assert status < 500, (status, answer[:300])
    assert b"Traceback" not in answer
