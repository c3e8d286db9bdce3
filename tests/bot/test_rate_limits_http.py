"""Telegram's flood limits, measured where Telegram would measure them: on arrival at a Bot API.

The production Application (bot.application.build_application, its real AiohttpRequest) talks HTTP
to a fake Bot API on 127.0.0.1 (tests/bot/fake_telegram_server.py), in a process of its own like a
remote server. It records the arrival time of every request and answers every 50th sendMessage
(2 %) with 429 retry_after 2, and any request that arrives during such a pause with 429 as well,
like Telegram. Meanwhile the delivery worker sends four campaigns (three of them to the same eight
chats, back to back) and thirty people write to the bot, as at registration.

Asserted from the arrival times, over every rolling second: at most the broadcast rate of bulk
messages, at most 30 requests in all, at most one bulk message per chat; after a 429, nothing is
sent until retry_after has passed (a request already on the wire when the 429 was answered is the
only exception, counted from the client side); every recipient gets each campaign exactly once, and
every chat update is answered.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from telegram import Update

from bot.application import build_application
from bot.bootstrap import create_services
from bot.telegram_http import AiohttpRequest
from bot.clock import ManualClock
from bot.replies import Reply, t
from tests.bot.fake_telegram import RETRY_AFTER, busiest_second, fake_telegram
from bot.services.delivery import Audience, CampaignPayload, campaign_kind, campaign_progress, start_campaign
from bot.services.delivery.worker import DeliveryWorker
from handlers.delivery_sender import TelegramSender
from tests.handlers.conftest import ADMIN_ID, START, make_settings

KIND = "rate_limits_http_test"
TOTAL_LIMIT = 30
RECIPIENTS = 150
REPEATED_CHATS = 8  # three small campaigns to the same chats, sent back to back
CHAT_USERS = 30
CHAT_TURNS = ("/start", "hello", "/help")
TOKEN = "1:RATETEST"


async def _render(services, campaign, payload, delivery, uow) -> Reply:
    return Reply("en").say(t("broadcast.notice", text=f"BULK {campaign.id} {delivery.telegram_id}"))


RATE_TEST = campaign_kind(KIND, CampaignPayload, _render)


@dataclass(frozen=True)
class Arrival:
    at: float
    method: str
    chat_id: int | None
    bulk_campaign: int | None
    status: int


async def server_records(url: str) -> tuple[list[Arrival], list[tuple[float, int]]]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/records") as response:
        records = await response.json()
    return [Arrival(**a) for a in records["arrivals"]], [tuple(t) for t in records["throttled"]]


@dataclass
class ClientCall:
    started: float
    ended: float
    status: int | None
    retry_after: float | None


class RecordingRequest(AiohttpRequest):
    """The production HTTP client; also notes when each request left and when its answer came back."""

    def __init__(self, calls: list[ClientCall], **kwargs) -> None:
        super().__init__(**kwargs)
        self.calls = calls

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        started = time.monotonic()
        status, retry_after = None, None
        try:
            status, payload = await super().do_request(url, method, request_data, *args, **kwargs)
            if status == 429:
                retry_after = json.loads(payload)["parameters"]["retry_after"]
            return status, payload
        finally:
            self.calls.append(ClientCall(started, time.monotonic(), status, retry_after))


def chat_update(update_id: int, user_id: int, text: str) -> dict:
    message = {"message_id": update_id, "date": int(time.time()), "text": text,
               "chat": {"id": user_id, "type": "private"},
               "from": {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "en"}}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


@pytest.mark.parametrize("rate", [50.0, 25.0])
async def test_broadcasts_and_replies_keep_telegrams_limits_on_the_wire(
    tmp_path: Path, database_url: str, rate: float
) -> None:
    client_calls: list[ClientCall] = []
    with fake_telegram() as url:
        settings_overrides = {"telegram_token": TOKEN, "broadcast_rate": rate, "telegram_api_url": f"{url}/bot"}
        clock = ManualClock(START)
        services = await create_services(make_settings(tmp_path, database_url, **settings_overrides), clock, local=True)
        application = build_application(services)
        # The production build, with the recording client put in place of its own.
        request = RecordingRequest(client_calls, connection_pool_size=32)
        application.bot._request = (request, request)
        await application.initialize()
        worker = DeliveryWorker(services, TelegramSender(services, application.bot))
        recipients = list(range(70_000, 70_000 + RECIPIENTS))
        repeated = recipients[:REPEATED_CHATS]
        campaigns = []
        async with services.database.unit_of_work() as uow:
            for audience in ([repeated] * 3) + [recipients]:
                campaigns.append(await start_campaign(
                    uow, kind=RATE_TEST, created_by=ADMIN_ID, payload=CampaignPayload(), audience=Audience.from_ids(audience),
                    now=clock.now(), rate=rate))
        expected = {(campaigns[n], chat) for n in range(3) for chat in repeated}
        expected |= {(campaigns[3], chat) for chat in recipients}

        latencies: list[float] = []
        update_ids = itertools.count(1)

        async def citizen(user_id: int) -> None:
            await asyncio.sleep(1.0 + (user_id % 5) * 0.1)  # the broadcast is under way
            for text in CHAT_TURNS:
                started = time.monotonic()
                await application.process_update(Update.de_json(chat_update(next(update_ids), user_id, text),
                                                                 application.bot))
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.2)

        users = list(range(20_000, 20_000 + CHAT_USERS))
        began = time.monotonic()
        await worker.start()
        try:
            await asyncio.wait_for(asyncio.gather(*(citizen(u) for u in users)), timeout=120)
            deadline = time.monotonic() + 120
            while not await all_done(services, campaigns):
                assert time.monotonic() < deadline, "the campaigns did not finish"
                await asyncio.sleep(0.2)
        finally:
            await worker.stop()
            await application.shutdown()
            statuses: Counter[str] = Counter()
            async with services.database.unit_of_work() as uow:
                for campaign in campaigns:
                    statuses.update((await uow.deliveries.statuses_by_recipient(campaign)).values())
            await services.database.dispose()
        elapsed = time.monotonic() - began
        arrivals, throttled = await server_records(url)

    requests = [a for a in arrivals if a.method != "getMe"]
    bulk = [a for a in requests if a.bulk_campaign is not None]
    assert throttled, "the fake Bot API answered some sends with 429"
    assert busiest_second([a.at for a in requests]) <= TOTAL_LIMIT, "more than 30 requests in a second"
    assert busiest_second([a.at for a in bulk]) <= rate, "more bulk messages in a second than the broadcast rate"
    for chat in recipients:
        assert busiest_second([a.at for a in bulk if a.chat_id == chat]) <= 1, "two bulk messages to a chat in a second"

    # After a 429 nothing leaves until retry_after has passed (client side) ...
    refusals = [c for c in client_calls if c.status == 429]
    for refusal in refusals:
        resumed = [c for c in client_calls if refusal.ended <= c.started < refusal.ended + refusal.retry_after]
        assert not resumed, f"{len(resumed)} requests sent within retry_after of a 429"
    # ... and on the server, only requests that were already on their way arrive inside the pause.
    for refused_at, seconds in throttled:
        answered = min(c.ended for c in refusals if c.ended >= refused_at)
        in_flight = sum(1 for c in client_calls if c.started < answered and c.ended > refused_at) - 1
        inside = sum(1 for a in requests if refused_at < a.at < refused_at + seconds)
        assert inside <= in_flight, f"{inside} requests arrived inside a {seconds} s pause"

    accepted = Counter((a.bulk_campaign, a.chat_id) for a in bulk if a.status == 200)
    assert accepted == Counter({key: 1 for key in expected}), "every recipient got each campaign exactly once"
    assert statuses == Counter({"sent": len(expected)})
    replies = Counter(a.chat_id for a in requests if a.bulk_campaign is None and a.status == 200)
    assert all(replies[user] >= len(CHAT_TURNS) for user in users), "every chat update was answered"
    # Replies go first: they wait for a 429 pause and for each other, never behind the broadcast.
    assert max(latencies) < RETRY_AFTER + 3.0, f"a reply waited {max(latencies):.1f} s"
    assert elapsed < 90


async def all_done(services, campaigns: list[int]) -> bool:
    async with services.database.unit_of_work() as uow:
        for campaign in campaigns:
            if (await campaign_progress(uow, campaign)).status != "done":
                return False
    return True
