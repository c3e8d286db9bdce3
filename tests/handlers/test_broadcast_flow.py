"""/broadcast end to end: compose (text, photo), audience, preview with count, confirm, background
delivery with progress, /broadcast_status, /broadcast_cancel, and 429/403 from the Bot API."""
from __future__ import annotations

import io
from collections import Counter

from PIL import Image

from bot.local.chat import LocalUser
from tests.handlers.conftest import Harness
from tests.handlers.test_org_fixtures import (
    ADMIN,
    add_citizens,
    approved_organisation,
    audit,
    chat,
    drain,
    join_directly,
    last_toast,
    register,
)

MANAGER = LocalUser(65001, "Manager", "en")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _received(harness: Harness, ids: list[int], needle: str) -> Counter[int]:
    return Counter(m.chat_id for m in harness.api.messages.values() if m.chat_id in ids and needle in m.body)


async def _compose(harness: Harness, text: str) -> None:
    [ask] = await harness.say(ADMIN, "/broadcast")
    assert ask.text.startswith("Send the text of the notice")
    [photo_question] = await harness.say(ADMIN, text)
    assert photo_question.text.startswith("Add a photo?")


async def test_a_region_broadcast_reaches_that_region_only_with_progress(harness: Harness) -> None:
    hangzhou = await add_citizens(harness, 12, first=71_000, region="330100")
    beijing = await add_citizens(harness, 5, first=72_000, region="110100")
    await _compose(harness, "Free testing at the stadium, 9:00–17:00.")
    await harness.press(ADMIN, "No photo")
    [ask_region] = await harness.press(ADMIN, "A region")
    assert "prefix" in ask_region.text
    [bad] = await harness.say(ADMIN, "99")
    assert bad.text.startswith("That is not the start of a known region code.")
    [preview, question] = await harness.say(ADMIN, "33")
    assert preview.text == "📢 Free testing at the stadium, 9:00–17:00."
    assert "Audience: region 33 (Zhejiang) — 12 recipient(s)" in question.text
    [started] = await harness.press(ADMIN, "Send to 12")
    assert started.text.startswith("Broadcast #1 is going out to 12 recipient(s) at 25 messages/s")
    await drain(harness)
    assert _received(harness, hangzhou, "Free testing") == Counter({i: 1 for i in hangzhou})
    assert not _received(harness, beijing, "Free testing")
    report = chat(harness, ADMIN)[-1]
    assert "Broadcast #1 (notice) — Done" in report.text and "sent 12" in report.text
    [status] = await harness.say(ADMIN, "/broadcast_status")
    assert "sent 12 · failed 0 · blocked 0 · remaining 0 of 12" in status.text
    [entry] = await audit(harness, "broadcast.start")
    assert entry.detail == {"audience": "region", "value": "33", "recipients": 12}


async def test_a_photo_is_uploaded_once_then_reused(harness: Harness) -> None:
    ids = await add_citizens(harness, 6)
    await _compose(harness, "Vaccination day")
    await harness.chat.send_photo(ADMIN, _png())
    [question] = [m for m in chat(harness, ADMIN) if m.text == "Who should receive it?"]
    assert question is not None
    replies = await harness.press(ADMIN, "Everyone")
    assert replies[0].photo is not None and replies[0].caption == "📢 Vaccination day"
    await harness.press(ADMIN, "Send to 6")
    uploads_before = len([c for c in harness.api.calls_to("sendPhoto") if "photo" in c.files])
    await drain(harness)
    photos = [m for m in harness.api.messages.values() if m.chat_id in ids]
    assert len(photos) == 6 and all(m.photo and m.caption == "📢 Vaccination day" for m in photos)
    uploads = len([c for c in harness.api.calls_to("sendPhoto") if "photo" in c.files]) - uploads_before
    assert uploads == 1, "the other five reuse Telegram's file id"


async def test_a_photo_outside_a_broadcast_is_still_a_checkpoint_scan(harness: Harness) -> None:
    citizen = LocalUser(65002, "Citizen", "en")
    [answer] = await harness.chat.send_photo(citizen, _png())
    assert "QR" in answer.text


async def test_colour_and_organisation_audiences(harness: Harness) -> None:
    organisation_id, _ = await approved_organisation(harness, MANAGER)
    members = await add_citizens(harness, 3, first=73_000)
    await add_citizens(harness, 4, first=74_000)
    await join_directly(harness, organisation_id, members)
    yellow = LocalUser(65003, "Yellow", "en")
    await register(harness, yellow, 5)
    await harness.declare(yellow, temperature="38.0")
    await _compose(harness, "For yellow codes: stay home")
    await harness.press(ADMIN, "No photo")
    await harness.press(ADMIN, "By code colour")
    [_, question] = await harness.press(ADMIN, "Yellow")
    assert "everyone with a Yellow code — 1 recipient(s)" in question.text
    await harness.press(ADMIN, "Send to 1")
    await _compose(harness, "Staff notice")
    await harness.press(ADMIN, "No photo")
    [choose] = await harness.press(ADMIN, "An organisation")
    assert [label for row in choose.buttons for label, _ in row] == ["Acme Ltd"]
    [_, question] = await harness.press(ADMIN, "Acme Ltd")
    assert "the members of Acme Ltd — 3 recipient(s)" in question.text
    await harness.press(ADMIN, "Send to 3")
    await drain(harness)
    assert _received(harness, [yellow.telegram_id], "stay home") == Counter({yellow.telegram_id: 1})
    assert _received(harness, members, "Staff notice") == Counter({i: 1 for i in members})
    assert sum(_received(harness, list(range(74_000, 74_004)), "notice").values()) == 0


async def test_nobody_in_the_audience_offers_to_choose_again(harness: Harness) -> None:
    await _compose(harness, "Hello")
    await harness.press(ADMIN, "No photo")
    await harness.press(ADMIN, "By code colour")
    [_, nobody] = await harness.press(ADMIN, "Red")
    assert nobody.text == "Nobody matches everyone with a Red code."
    [again] = await harness.press(ADMIN, "Choose again")
    assert again.text == "Who should receive it?"


async def test_cancel_stops_a_broadcast_half_way(harness: Harness) -> None:
    ids = await add_citizens(harness, 10)
    await _compose(harness, "Half")
    await harness.press(ADMIN, "No photo")
    await harness.press(ADMIN, "Everyone")
    await harness.press(ADMIN, "Send to 10")
    from bot.services.delivery.worker import DeliveryWorker
    from handlers.delivery_sender import TelegramSender

    worker = DeliveryWorker(harness.services, TelegramSender(harness.services, harness.application.bot), rate=1000)
    await worker.run_once(4)
    [status] = await harness.say(ADMIN, "/broadcast_status 1")
    assert "remaining 6 of 10" in status.text
    assert [label for row in status.buttons for label, _ in row] == ["Stop sending"]
    [stopped] = await harness.say(ADMIN, "/broadcast_cancel")
    assert stopped.text == "Broadcast #1 stopped: 6 recipient(s) will not get it."
    await drain(harness)
    assert sum(_received(harness, ids, "Half").values()) == 4
    [again] = await harness.say(ADMIN, "/broadcast_cancel 1")
    assert again.text == "Broadcast #1 is not sending any more."
    assert [e.detail for e in await audit(harness, "broadcast.cancel")] == [{"cancelled": 6}]


async def test_429_and_403_during_a_broadcast(harness: Harness) -> None:
    ids = await add_citizens(harness, 8)
    await _compose(harness, "Rate limited")
    await harness.press(ADMIN, "No photo")
    await harness.press(ADMIN, "Everyone")
    await harness.press(ADMIN, "Send to 8")
    harness.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    harness.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await drain(harness)
    got = _received(harness, ids, "Rate limited")
    assert sum(got.values()) == 7 and max(got.values()) == 1
    [status] = await harness.say(ADMIN, "/broadcast_status")
    assert "sent 7 · failed 0 · blocked 1 · remaining 0 of 8" in status.text


async def test_stale_and_out_of_order_broadcast_buttons(harness: Harness) -> None:
    await _compose(harness, "Hello")
    [photo_question] = [m for m in chat(harness, ADMIN) if m.text and m.text.startswith("Add a photo?")]
    await harness.press(ADMIN, "No photo")
    await harness.chat.press_data(ADMIN, photo_question, "bc:send")  # not at the confirm step yet
    assert last_toast(harness) == "That button is no longer active."
    await harness.press(ADMIN, "Cancel")
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.deliveries.campaigns(kind="broadcast") == []
    [none] = await harness.say(ADMIN, "/broadcast_status")
    assert none.text == "No broadcast has been sent yet."
