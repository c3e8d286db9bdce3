"""A fresh card costs no extra unit of work: Telegram's file id for it comes back in the send result
and is written by the person's next code refresh, which then sends the card by that id."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image

from bot.application import write_learnt_file_ids
from bot.credentials.cwt import decode_credential
from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from bot.services.card_file_ids import MAX_AGE
from storage.database import Database
from tests.handlers.conftest import Harness


@contextmanager
def counting_units_of_work(database: Database) -> Iterator[list[int]]:
    """Count the units of work opened while the block runs (a spy on Database.unit_of_work)."""
    opened = [0]
    original = database.unit_of_work

    def spy():  # noqa: ANN202 - same signature as the original
        opened[0] += 1
        return original()

    database.unit_of_work = spy  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        database.unit_of_work = original  # type: ignore[method-assign]


def _uploads(harness: Harness) -> int:
    return len([c for c in harness.api.calls_to("sendPhoto") if "photo" in c.files])


def _cti(card: SentMessage) -> str:
    [found] = zxingcpp.read_barcodes(Image.open(BytesIO(card.photo)), formats=zxingcpp.BarcodeFormat.QRCode)
    return decode_credential(found.text.rsplit("/", 1)[1]).cti_hex


async def _status(harness: Harness, citizen: LocalUser) -> tuple[SentMessage, int]:
    """Ask for /status; the card it shows and the units of work it opened."""
    with counting_units_of_work(harness.services.database) as opened:
        [card] = await harness.say(citizen, "/status")
    assert card.photo is not None
    return card, opened[0]


async def _stored_file_id(harness: Harness, card: SentMessage) -> str | None:
    async with harness.services.database.unit_of_work() as uow:
        return (await uow.credentials.get(_cti(card))).telegram_file_id


@pytest.fixture
async def declared(harness: Harness, citizen: LocalUser) -> Harness:
    await harness.register(citizen)
    await harness.declare(citizen)
    return harness


async def test_a_fresh_card_opens_no_more_units_of_work_than_a_cached_one(declared: Harness, citizen: LocalUser) -> None:
    harness = declared
    _, cached_cost = await _status(harness, citizen)  # the confirmation's card, by its file id
    harness.next_day()  # evaluated for a new day: a new credential, hence a new image
    uploads = _uploads(harness)
    fresh, fresh_cost = await _status(harness, citizen)
    assert _uploads(harness) == uploads + 1
    assert fresh_cost == cached_cost, "remembering the file id must not open a unit of work of its own"

    again, again_cost = await _status(harness, citizen)
    assert _cti(again) == _cti(fresh)
    assert again.photo_file_id == fresh.photo_file_id and _uploads(harness) == uploads + 1, "reused by its file id"
    assert again_cost == cached_cost
    # ... and stored, so another process (or a restart) reuses it too.
    assert await _stored_file_id(harness, fresh) == fresh.photo_file_id


async def test_a_file_id_telegram_rejects_is_replaced_by_the_new_upload(declared: Harness, citizen: LocalUser) -> None:
    harness = declared
    card, _ = await _status(harness, citizen)
    async with harness.services.database.unit_of_work() as uow:
        await uow.credentials.set_file_id(_cti(card), "forgotten-by-telegram")
    uploads = _uploads(harness)
    uploaded, _ = await _status(harness, citizen)  # rejected, so uploaded again
    assert _uploads(harness) == uploads + 1 and uploaded.photo_file_id != "forgotten-by-telegram"
    again, _ = await _status(harness, citizen)
    assert again.photo_file_id == uploaded.photo_file_id and _uploads(harness) == uploads + 1
    assert await _stored_file_id(harness, card) == uploaded.photo_file_id


async def test_an_id_no_refresh_carries_is_written_in_a_batch(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen))[-1]
    assert await _stored_file_id(harness, card) is None  # held for Alice's next refresh, no unit of work of its own
    harness.clock.advance(MAX_AGE)
    with counting_units_of_work(harness.services.database) as opened:
        await harness.say(LocalUser(20002, "Bob", "en"), "/start")  # anyone's reply: the batch is due
    assert opened[0] == 2  # Bob's turn, and the batch
    assert await _stored_file_id(harness, card) == card.photo_file_id


async def test_ids_still_unwritten_at_shutdown_are_written(harness: Harness, citizen: LocalUser) -> None:
    await harness.register(citizen)
    card = (await harness.declare(citizen))[-1]
    await write_learnt_file_ids(harness.application)  # what the runners do at shutdown
    assert await _stored_file_id(harness, card) == card.photo_file_id
