"""Web fixtures: a harness (real Application, local Bot API, real database) with its web server on 127.0.0.1."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.local_chat import LocalUser
from bot.web.server import WebServer
from tests.handlers.conftest import Harness, start_harness, stop_harness


@dataclass
class Site:
    harness: Harness
    server: WebServer
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return self.server.url

    async def get(self, path: str, **kwargs: object) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
        async with self.http.get(self.url + path, **kwargs) as response:
            return response.status, await response.text(), response.headers

    async def get_json(self, path: str, **kwargs: object) -> tuple[int, dict]:
        async with self.http.get(self.url + path, **kwargs) as response:
            return response.status, await response.json(content_type=None)

    async def post_json(self, path: str, body: object, **kwargs: object) -> tuple[int, dict]:
        async with self.http.post(self.url + path, json=body, **kwargs) as response:
            return response.status, await response.json(content_type=None)


async def start_site(harness: Harness) -> Site:
    server = WebServer(harness.services, host="127.0.0.1", port=0)
    await server.start()
    return Site(harness, server, aiohttp.ClientSession())


async def stop_site(site: Site) -> None:
    await site.http.close()
    await site.server.stop()


@pytest.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[Site]:
    harness = await start_harness(tmp_path, database_url)
    running = await start_site(harness)
    yield running
    await stop_site(running)
    await stop_harness(harness)


@pytest.fixture
def citizen() -> LocalUser:
    return LocalUser(20001, "Alice", "en")


@pytest.fixture
def checkpoint_user() -> LocalUser:
    return LocalUser(30001, "Gate", "en")
