"""The card the bot sends decodes (with a real QR decoder) to a verification URL whose credential verifies."""
from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import zxingcpp
from PIL import Image

from bot.credentials.cwt import decode_credential, verify_credential
from bot.local.chat import LocalUser
from bot.credentials.trust import TrustStore
from tests.handlers.conftest import Harness


def _decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return results[0].text


async def test_card_qr_carries_a_verifiable_credential_without_personal_data(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen, name="张三", phone="13800138000")
    card = (await harness.declare(citizen, temperature="37.6"))[-1]
    url = _decode_qr(card.photo)
    assert url.startswith("HTTPS://HC.EXAMPLE.CN/V/")  # upper case: the whole URL in QR alphanumeric mode
    token = url.rsplit("/", 1)[1]

    trust = TrustStore(grace=timedelta(hours=1))
    trust.add_own(harness.services.keyring, harness.services.settings.issuer, "Hangzhou")
    result = verify_credential(token, trust, harness.clock.now())
    assert result.valid and result.colour.value == "yellow" and result.issuer == "CN-330100"

    decoded = decode_credential(token)
    async with harness.services.database.unit_of_work() as uow:
        profile = await uow.users.get_by_telegram_id(citizen.telegram_id)
    assert decoded.subject is None  # issue 9, item 12: no subject, so nothing links a person's codes
    raw = decoded.signed_bytes
    for personal in ("张三".encode(), b"13800138000", profile.resident_id.encode(), str(citizen.telegram_id).encode(),
                     profile.subject_id.encode()):
        assert personal not in raw

    # Expires at the end of the next local day.
    assert harness.clock.now() + timedelta(hours=38) < result.exp <= harness.clock.now() + timedelta(hours=39)
    assert verify_credential(token, trust, result.exp + timedelta(seconds=1)).reason == "expired"


async def test_a_new_status_issues_a_new_credential_and_a_new_image(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    green = (await harness.declare(citizen))[-1]
    yellow = (await harness.declare(citizen, temperature="37.9"))[-1]
    assert _decode_qr(green.photo) != _decode_qr(yellow.photo)
    assert green.photo_file_id != yellow.photo_file_id
