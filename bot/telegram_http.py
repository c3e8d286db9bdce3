"""The HTTP client the bot talks to the Bot API with: ptb's request interface over aiohttp.

ptb's default, ``HTTPXRequest``, costs about 1.5 ms of CPU per Bot API call on this machine (4.5 ms
for the three calls of a confirmation); aiohttp, a dependency already (the web side serves with it),
does the same work in a fraction of that (``python -m bench.bot_api_http``).

Only the transport is replaced. ptb's ``BaseRequest.post`` and ``_request_wrapper`` stay in charge
of everything above it, so a 429 is ``RetryAfter``, a 403 ``Forbidden``, a 400 ``BadRequest``, 401
and 404 ``InvalidToken``, 409 ``Conflict``, a 5xx ``NetworkError``, with the same messages, exactly as
with ``HTTPXRequest`` (tests/bot/test_telegram_http.py compares the two on a loopback server).
Transport failures map as ``HTTPXRequest`` maps httpx's: a timeout is ``TimedOut``, any other client
error ``NetworkError``.

Requests are encoded as ``HTTPXRequest`` encodes them: parameters as a urlencoded form, or, with
files, a multipart form (parameters as fields, each file with its name and content type). Timeouts
follow ptb's meaning where aiohttp has one: ``connect`` bounds opening a connection and waiting for
a free one in the pool (aiohttp counts both as connecting), ``read`` each read of the answer;
aiohttp has no write timeout, so the write timeout (ptb's 20 s media timeout for uploads) bounds
the whole request instead, together with the others.
"""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """ptb's ``BaseRequest`` on one ``aiohttp.ClientSession`` (its own connection pool)."""

    __slots__ = ("_connect_timeout", "_media_write_timeout", "_pool_size", "_pool_timeout", "_read_timeout",
                 "_session", "_write_timeout")

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        # The defaults are HTTPXRequest's.
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # The session needs the running loop, hence here and not in __init__.
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}, auto_decompress=True,
                skip_auto_headers=("Accept-Encoding",),
            )

    async def shutdown(self) -> None:
        """Closes the session and with it every pooled connection."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    @property
    def closed(self) -> bool:
        return self._session is None or self._session.closed

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")  # HTTPXRequest's words
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        timeout = aiohttp.ClientTimeout(
            total=_sum(connect, pool, write, read),
            connect=_sum(connect, pool),
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if files:
            body = _multipart(request_data.json_parameters if request_data else {}, files)
        elif request_data is not None and request_data.parameters:
            body = urlencode(request_data.json_parameters).encode("ascii")
            headers = _FORM
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _sum(*timeouts: float | None) -> float | None:
    """The sum of the timeouts, or None (no limit) if any of them is None."""
    return None if any(timeout is None for timeout in timeouts) else sum(t for t in timeouts if t is not None)


def _multipart(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, content_type) in files.items():
        data = content if isinstance(content, (bytes, bytearray)) else content.read()
        form.add_field(name, data, filename=filename, content_type=content_type)
    return form
