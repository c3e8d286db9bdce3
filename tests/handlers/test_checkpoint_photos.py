"""Photos sent for a checkpoint scan: decoded before any transaction opens, every decoder failure answered.

Anyone can send a picture, registered or not, so a slow or hostile one must neither hold the database's
write lock (SQLite admits one writer) nor end in "something went wrong".
"""
from __future__ import annotations

import asyncio
import io
import threading
import time

import pytest
from PIL import Image

from bot.local.chat import LocalUser
from bot.services import checkpoint
from storage.unit_of_work import UnitOfWork
from tests.handlers.conftest import VALID_IDS, Harness

STRANGER = LocalUser(30001, "Gate", "en")  # never registered
INTERNAL_ERROR = "something went wrong"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _text(messages) -> str:
    return "\n".join(message.body for message in messages)


def _huge_width() -> bytes:
    return _png(Image.new("1", (40_000_000, 1), 1))  # 40 million pixels in one row: zxing refuses > 65535


def _truncated() -> bytes:
    whole = _png(Image.new("RGB", (600, 600), (20, 200, 90)))
    return whole[: len(whole) // 3]


def _truncated_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (600, 600), (20, 200, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


def _bomb() -> bytes:
    return _png(Image.new("1", (20_000, 10_000), 1))  # 200 million pixels: Pillow's own bomb error


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_huge_width, "This picture is 40000000 × 1 pixels: too long or narrow to read"),
        (_truncated, "This picture is incomplete or damaged"),
        (_bomb, "This picture has too many pixels to read"),
        (_truncated_jpeg, "This picture is incomplete or damaged"),
        (lambda: b"GIF89a" + b"\x00" * 40, "I can't open this file as a picture"),
        (lambda: b"%PDF-1.4 not a picture", "I can't open this file as a picture"),
        (lambda: b"\x00" * (10 * 1024 * 1024 + 1), "This file is too large: at most 10 MB"),
    ],
    ids=["40000000x1", "truncated-png", "bomb", "truncated-jpeg", "broken-gif", "pdf", "over-10MB"],
)
@pytest.mark.parametrize("as_document", [True, False], ids=["document", "photo"])
async def test_every_unreadable_picture_gets_its_own_answer(harness: Harness, make, expected: str,
                                                            as_document: bool) -> None:
    replies = await harness.chat.send_photo(STRANGER, make(), as_document=as_document)
    text = _text(replies)
    assert INTERNAL_ERROR not in text
    assert [message.body[: len(expected)] for message in replies] == [expected]


async def test_a_decoder_failure_of_any_kind_gets_an_answer(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("zxing: internal error")

    monkeypatch.setattr(checkpoint.zxingcpp, "read_barcodes", broken)
    replies = await harness.chat.send_photo(STRANGER, _png(Image.new("RGB", (400, 300), "white")))
    assert _text(replies).startswith("I could not read this picture")


async def test_a_large_picture_decodes_outside_any_transaction(harness: Harness,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """While one person's big photo decodes, another person's declaration goes through at once."""
    citizen = LocalUser(20001, "Alice", "en")
    await harness.register(citizen, resident_id=VALID_IDS[1])
    open_units = 0
    real_enter, real_exit = UnitOfWork.__aenter__, UnitOfWork.__aexit__

    async def counted_enter(self):
        nonlocal open_units
        entered = await real_enter(self)
        open_units += 1
        return entered

    async def counted_exit(self, *exc):
        nonlocal open_units
        open_units -= 1
        return await real_exit(self, *exc)

    monkeypatch.setattr(UnitOfWork, "__aenter__", counted_enter)
    monkeypatch.setattr(UnitOfWork, "__aexit__", counted_exit)

    decoding, release = threading.Event(), threading.Event()
    open_while_decoding: list[int] = []
    real_read = checkpoint.read_qr_codes

    def slow_read(content: bytes) -> list[str]:
        open_while_decoding.append(open_units)
        decoding.set()
        release.wait(timeout=20)  # held until the other declaration has finished (or the test gave up)
        return real_read(content)

    monkeypatch.setattr(checkpoint, "read_qr_codes", slow_read)
    big = _png(Image.new("RGB", (8000, 5000), "white"))
    scan = asyncio.create_task(harness.chat.send_photo(STRANGER, big, as_document=True))
    try:
        while not decoding.is_set():
            assert not scan.done(), scan.result()
            await asyncio.sleep(0.01)
        started = time.monotonic()
        declared = await asyncio.wait_for(harness.declare(citizen), timeout=8)
        took = time.monotonic() - started
    finally:
        release.set()
    scan_replies = await asyncio.wait_for(scan, timeout=20)
    assert open_while_decoding == [0]  # no unit of work (and so no write lock) open while decoding
    assert took < 5 and declared[-1].photo is not None  # the declaration completed with its card
    [answer] = [message for message in scan_replies if message.chat_id == STRANGER.telegram_id]
    assert answer.body.startswith("I found no QR code in this picture")
