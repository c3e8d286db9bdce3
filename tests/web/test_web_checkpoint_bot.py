"""Verify by photo in the bot: one QR code gets a verdict; none, several, or not a picture get clear answers."""
from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bot.local.chat import LocalUser
from bot.services import checkpoint
from tests.handlers.conftest import Harness, VALID_IDS, start_harness, stop_harness
from tests.web.conftest import tamper_signature, token_of

GATE = LocalUser(30001, "Gate", "en")


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


async def _card(harness: Harness, user: LocalUser, resident_id: str = VALID_IDS[0], **declaration: object) -> bytes:
    await harness.register(user, resident_id=resident_id)
    return (await harness.declare(user, **declaration))[-1].photo


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def test_photo_of_a_valid_code_gets_colour_validity_issuer_and_masked_name(harness: Harness) -> None:
    card = await _card(harness, LocalUser(20001, "Alice", "en"))
    (reply,) = await harness.chat.send_photo(GATE, card)
    assert reply.body.splitlines()[0] == "✅ VALID · Green code"
    assert "Issuer: Hangzhou (CN-330100)" in reply.body and "Name: 张*" in reply.body
    assert "Issued 2026-03-02 09:00 · valid until 2026-03-04 00:00" in reply.body
    assert "Checked 2026-03-02 09:00:00" in reply.body


async def test_the_answer_follows_the_checkpoint_users_language(harness: Harness) -> None:
    card = await _card(harness, LocalUser(20001, "Alice", "en"), temperature="37.8")
    (reply,) = await harness.chat.send_photo(LocalUser(30002, "门卫", "zh-CN"), card, as_document=True)
    assert reply.body.startswith("✅ 有效 · 黄码") and "签发地：杭州市（CN-330100）" in reply.body


async def test_a_superseded_code_reports_the_reason_but_not_the_current_colour(harness: Harness) -> None:
    citizen = LocalUser(20001, "Alice", "en")
    green = await _card(harness, citizen)
    await harness.declare(citizen, diagnosis="suspected")
    (reply,) = await harness.chat.send_photo(GATE, green, as_document=True)
    assert reply.body.startswith("❌ NOT VALID: superseded: this code was replaced; ask the holder for their current code")
    assert "Red" not in reply.body and "Name:" not in reply.body  # issue 9, item 13


async def test_tampered_code_is_rejected_with_its_reason(harness: Harness) -> None:
    card = await _card(harness, LocalUser(20001, "Alice", "en"))
    forged = tamper_signature(token_of(card))
    messages = await harness.say(GATE, f"/verify https://hc.example.cn/v/{forged}")
    assert messages[-1].body.startswith("❌ NOT VALID: the signature is invalid")


async def test_no_qr_code_in_the_picture(harness: Harness) -> None:
    blank = _png(Image.new("RGB", (400, 300), (200, 220, 240)))
    (reply,) = await harness.chat.send_photo(GATE, blank)
    assert reply.body.startswith("I found no QR code in this picture")


async def test_two_qr_codes_in_one_picture(harness: Harness) -> None:
    first = Image.open(io.BytesIO(await _card(harness, LocalUser(20001, "Alice", "en"))))
    second = Image.open(io.BytesIO(await _card(harness, LocalUser(20002, "Bob", "en"), resident_id=VALID_IDS[1])))
    both = Image.new("RGB", (first.width + second.width + 40, max(first.height, second.height)), "white")
    both.paste(first.convert("RGB"), (0, 0))
    both.paste(second.convert("RGB"), (first.width + 40, 0))
    (reply,) = await harness.chat.send_photo(GATE, _png(both), as_document=True)
    assert reply.body == "I found 2 QR codes in this picture. Send a picture with only one health code in it."


async def test_a_file_that_is_not_a_picture(harness: Harness) -> None:
    (reply,) = await harness.chat.send_photo(GATE, b"%PDF-1.4 not a picture", as_document=True, filename="x.pdf")
    assert reply.body.startswith("I can't open this file as a picture")


async def test_a_file_over_the_size_cap_is_refused(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint, "MAX_IMAGE_BYTES", 1024 * 1024)
    noise = _png(Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)))  # incompressible: ~3 MB
    assert len(noise) > 1024 * 1024
    (reply,) = await harness.chat.send_photo(GATE, noise, as_document=True)
    assert reply.body == "This file is too large: at most 1 MB. Send a smaller picture of the QR code."


async def test_a_decompression_bomb_is_refused_before_decoding(harness: Harness) -> None:
    bomb = _png(Image.new("1", (9000, 9000), 1))  # 81 million pixels, a few kilobytes of PNG
    assert len(bomb) < 100_000
    (reply,) = await harness.chat.send_photo(GATE, bomb, as_document=True)
    assert reply.body.startswith("This picture has too many pixels")


async def test_mid_flow_a_picture_is_not_taken_for_a_scan(harness: Harness) -> None:
    card = await _card(harness, LocalUser(20001, "Alice", "en"))
    await harness.say(GATE, "/start")
    await harness.press(GATE, "I agree")  # now in registration, asked for a name
    replies = "\n".join(message.body for message in await harness.chat.send_photo(GATE, card))
    assert "I can't read a photo here" in replies and "in the middle of registration" in replies
    assert "VALID" not in replies


async def test_verify_command_without_a_link_explains_itself(harness: Harness) -> None:
    (reply,) = await harness.say(GATE, "/verify")
    assert reply.body == "Send /verify followed by a health-code link, or send a photo of the QR code."
