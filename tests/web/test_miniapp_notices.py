"""The chat's notice of a Mini App declaration: queued one row per person, handed to bulk delivery in bulk
(one campaign for everyone waiting), never lost and never sent twice. SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio

from bot.local.chat import LocalUser
from bot.services import miniapp
from bot.services.delivery.queues import notice_queue
from bot.services.delivery.worker import DeliveryWorker
from handlers.delivery_sender import TelegramSender
from tests.handlers.conftest import VALID_IDS
from tests.web.conftest import Site, card_token
from tests.web.miniapp_support import DECLARATION, auth, deliver

import pytest

FORM = {**DECLARATION, "day": "2026-03-02"}


async def _declare(site: Site, user: LocalUser, **answers: object) -> dict:
    status, body = await site.post_json("/app/api/declare", {**FORM, **answers}, headers=auth(site.harness, user))
    assert status == 200 and body["outcome"] in ("saved", "replaced"), body
    return body


async def _waiting(site: Site) -> int:
    async with site.harness.services.database.unit_of_work() as uow:
        return await uow.miniapp_notices.count_waiting()


async def _notice_campaigns(site: Site) -> list:
    async with site.harness.services.database.unit_of_work() as uow:
        return await uow.deliveries.campaigns(kind="miniapp_declaration")


async def test_a_declaration_queues_one_row_and_no_campaign_until_the_hand_over(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    await _declare(site, citizen, temperature="37.8")
    assert await _waiting(site) == 1 and await _notice_campaigns(site) == []  # no campaign in the declaration
    [notice] = await deliver(site.harness)
    assert notice.chat_id == citizen.telegram_id and "Yellow code" in notice.caption
    assert notice.caption.startswith("Declared in the Mini App for 2026-03-02.")
    assert await _waiting(site) == 0  # handed over and removed in one transaction
    assert await deliver(site.harness) == []  # never twice


async def test_many_people_waiting_become_one_campaign(site: Site) -> None:
    people = [LocalUser(20101 + n, f"P{n}", "en") for n in range(3)]
    for person, resident_id in zip(people, VALID_IDS):
        await site.harness.register(person, resident_id=resident_id)
        await _declare(site, person)
    assert await _waiting(site) == 3
    sent = await deliver(site.harness)
    assert sorted(message.chat_id for message in sent) == [p.telegram_id for p in people]
    [campaign] = await _notice_campaigns(site)
    assert campaign.total == 3 and campaign.created_by == miniapp.NO_ONE


async def test_declaring_again_while_a_notice_waits_is_covered_by_it_and_after_it_gets_its_own(
        site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    await _declare(site, citizen)
    await _declare(site, citizen, temperature="37.9")  # before the hand-over: the waiting notice covers it
    [notice] = await deliver(site.harness)
    assert "Yellow code" in notice.caption  # drawn at send time: the latest card
    await _declare(site, citizen, temperature="38.5")  # after it: a notice of its own
    [again] = await deliver(site.harness)
    assert again.chat_id == citizen.telegram_id and again.message_id != notice.message_id


async def test_declarations_during_a_hand_over_are_not_lost(site: Site, citizen: LocalUser) -> None:
    """Rows queued while a hand-over runs wait for the next one, whether a row it took (re-queued: on
    PostgreSQL the upsert waits for the hand-over's row lock) or another person's (committed meanwhile
    on PostgreSQL; SQLite's writer gate orders both after it): only the rows its batch took go."""
    other = LocalUser(20201, "Bob", "en")
    await card_token(site.harness, citizen)
    await site.harness.register(other, resident_id=VALID_IDS[1])
    await card_token(site.harness, other)  # declared in the chat: has a card to be sent
    await _declare(site, citizen)
    services = site.harness.services
    async with services.database.unit_of_work() as uow:
        users = [await uow.users.get_by_telegram_id(u.telegram_id) for u in (citizen, other)]
    async with services.database.unit_of_work() as uow:
        [day] = await uow.miniapp_notices.waiting_days()
        batch, taken = await uow.miniapp_notices.take(day)
        assert taken == 1

        async def queue(user_id: int) -> None:
            async with services.database.unit_of_work() as meanwhile:
                await meanwhile.miniapp_notices.queue(user_id, day, services.clock.now())

        again = asyncio.create_task(queue(users[0].id))
        newcomer = asyncio.create_task(queue(users[1].id))
        await asyncio.sleep(0.3)  # the newcomer's commits now on PostgreSQL; the re-queue waits for this transaction
        assert not again.done()
        assert await uow.miniapp_notices.forget(batch) == 1
    await asyncio.gather(again, newcomer)
    assert await _waiting(site) == 2  # both wait for the next hand-over
    sent = await deliver(site.harness)
    assert sorted(message.chat_id for message in sent) == [citizen.telegram_id, other.telegram_id]


async def test_the_worker_hands_over_on_its_own_while_it_runs(site: Site, citizen: LocalUser) -> None:
    await card_token(site.harness, citizen)
    harness = site.harness
    first = len(harness.api.changes)
    worker = DeliveryWorker(harness.services, TelegramSender(harness.services, harness.application.bot), rate=100,
                            idle_poll=0.05, queue_interval=0.05)
    await worker.start()
    try:
        await _declare(site, citizen, temperature="37.8")
        for _ in range(100):
            if await _waiting(site) == 0 and len(harness.api.changes) > first:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    notices = [harness.api.messages[key] for key in dict.fromkeys(harness.api.changes[first:]) if key in harness.api.messages]
    assert [n.chat_id for n in notices] == [citizen.telegram_id] and "Yellow code" in notices[0].caption


def test_a_second_queue_of_the_same_name_stops_start_up() -> None:
    with pytest.raises(ValueError, match="two notice queues are named 'miniapp_declaration'"):
        notice_queue("miniapp_declaration", miniapp.hand_over_notices)
