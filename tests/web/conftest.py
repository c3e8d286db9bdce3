"""Web fixtures: a harness (real Application, local Bot API, real database) with its web server on 127.0.0.1."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.local.chat import LocalUser
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


# -- credentials for the tests ------------------------------------------------------------------

def qr_text(png: bytes) -> str:
    import zxingcpp
    from io import BytesIO

    from PIL import Image

    # QR only: in about 1 card in 200 zxing also reports a stray Codabar inside the QR.
    results = zxingcpp.read_barcodes(Image.open(BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return results[0].text


def token_of(card_photo: bytes) -> str:
    from bot.services.verification import extract_token

    return extract_token(qr_text(card_photo))


def tamper_signature(token: str) -> str:
    import cbor2

    from bot.credentials.cwt import encode_token, token_bytes

    protected, unprotected, payload, signature = cbor2.loads(token_bytes(token)).value
    flipped = bytes([signature[0] ^ 0x01]) + signature[1:]
    return encode_token(cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprotected), payload, flipped])))


def stranger_token(issuer: str, now, *, colour: str = "green") -> str:
    """A well-formed credential signed by a key nobody lists."""
    from datetime import timedelta

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bot.credentials.cwt import issue_credential
    from bot.credentials.keyring import SigningKey
    from rules.model import Colour

    signer = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    return issue_credential(signer, issuer=issuer, subject="stranger", colour=Colour(colour), issued_at=now,
                            expires_at=now + timedelta(hours=10)).token


async def card_token(harness: Harness, user: LocalUser, **declaration: object) -> str:
    """Register (if needed) and declare; the token in the card the bot sent."""
    async with harness.services.database.unit_of_work() as uow:
        registered = await uow.users.get_by_telegram_id(user.telegram_id) is not None
    if not registered:
        await harness.register(user)
    messages = await harness.declare(user, **declaration)
    return token_of(messages[-1].photo)
