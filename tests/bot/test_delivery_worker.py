"""The bulk-delivery worker over the real ptb Bot and the local Bot API, on every database backend."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.error import TimedOut

from bot.local.bot_api import LocalBotApi
from bot.rate_limit import OutgoingLimiter, bulk_send
from bot.replies import Reply, t
from bot.services.delivery import (
    Audience,
    CampaignPayload,
    campaign_kind,
    campaign_progress,
    cancel_campaign,
    start_campaign,
)
from bot.services.delivery.worker import DeliveryWorker
from handlers.delivery_sender import TelegramSender
from storage.records import NewUser
from tests.handlers.conftest import ADMIN_ID, START, Harness, start_harness, stop_harness

class SampleNotice(CampaignPayload):
    text: str
    skip: list[int] = []
    explode: list[int] = []


async def _render_notice(services, campaign, payload: SampleNotice, delivery, uow) -> Reply | None:
    if delivery.telegram_id in payload.skip:
        return None
    if delivery.telegram_id in payload.explode:
        raise RuntimeError("renderer bug")
    return Reply("en").say(t("broadcast.notice", text=payload.text))


KIND = campaign_kind("test_notice", SampleNotice, _render_notice)


class TimingOutApi(LocalBotApi):
    """Answers like Telegram, except that sends to some chats time out after arriving."""

    def __init__(self, *args, slow_chats: set[int] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slow_chats = set(slow_chats)

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)
        if url.endswith("/sendMessage") and request_data and int(request_data.parameters["chat_id"]) in self.slow_chats:
            raise TimedOut("Timed out")
        return status, body


@pytest.fixture
async def harness(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    running = await start_harness(tmp_path, database_url)
    yield running
    await stop_harness(running)


def worker_for(harness: Harness, **options) -> DeliveryWorker:
    options.setdefault("rate", 1000)
    return DeliveryWorker(harness.services, TelegramSender(harness.services, harness.application.bot), **options)


async def add_citizens(harness: Harness, count: int, first_id: int = 50_000) -> list[int]:
    ids = list(range(first_id, first_id + count))
    async with harness.services.database.unit_of_work() as uow:
        for n, telegram_id in enumerate(ids):
            body = f"1101051990{n // 28 % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
            weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
            check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
            await uow.users.add(NewUser(telegram_id, f"用户{n}", body + check, f"139{n:08d}", "330100", "test", START),
                                START)
    return ids


async def _until(condition, seconds: float = 60.0) -> None:
    """Wait for a condition, failing (not hanging) if it does not come true in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def received(api: LocalBotApi, chat_ids: list[int]) -> Counter[int]:
    """Messages each chat actually got (only successful sends exist in the local API)."""
    wanted = set(chat_ids)
    return Counter(chat for (chat, _), _message in api.messages.items() if chat in wanted)


async def start(harness: Harness, audience: Audience, **payload) -> int:
    async with harness.services.database.unit_of_work() as uow:
        return await start_campaign(uow, kind=KIND, created_by=ADMIN_ID, payload=SampleNotice(text="hello", **payload),
                                    audience=audience, now=harness.clock.now(), progress_chat_id=ADMIN_ID)


async def test_every_recipient_gets_the_notice_once_and_the_admin_sees_progress(harness: Harness) -> None:
    ids = await add_citizens(harness, 30)
    campaign_id = await start(harness, Audience("everyone"))
    assert await worker_for(harness).run_once(1000) == 30
    assert received(harness.api, ids) == Counter({i: 1 for i in ids})
    assert harness.api.messages[(ids[0], min(m for (c, m) in harness.api.messages if c == ids[0]))].text == "📢 hello"
    async with harness.services.database.unit_of_work() as uow:
        progress = await campaign_progress(uow, campaign_id)
        statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
    assert progress.status == "done" and progress.sent == 30 and progress.remaining == 0
    assert set(statuses.values()) == {"sent"}
    [report] = [m for (c, _), m in harness.api.messages.items() if c == ADMIN_ID]
    assert "sent 30" in report.text and "remaining 0 of 30" in report.text


async def test_429_pauses_everything_and_the_message_is_sent_later_once(harness: Harness) -> None:
    ids = await add_citizens(harness, 5)
    campaign_id = await start(harness, Audience("everyone"))
    harness.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    await worker_for(harness).run_once(100)
    assert time.monotonic() - started >= 1.0, "the worker paused for the RetryAfter"
    assert received(harness.api, ids) == Counter({i: 1 for i in ids})
    sends = [c for c in harness.api.calls_to("sendMessage") if int(c.params["chat_id"]) in ids]
    assert len(sends) == 6, "five deliveries and one refused attempt"
    async with harness.services.database.unit_of_work() as uow:
        first = await uow.deliveries.delivery(campaign_id, int(sends[0].params["chat_id"]))
    assert first["status"] == "sent" and first["attempts"] == 2


async def test_403_marks_blocked_and_inactive_and_is_not_retried(harness: Harness) -> None:
    ids = await add_citizens(harness, 3)
    campaign_id = await start(harness, Audience("everyone"))
    harness.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await worker_for(harness).run_once(100)
    async with harness.services.database.unit_of_work() as uow:
        statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
        [blocked] = [i for i, s in statuses.items() if s == "blocked"]
        assert not (await uow.users.get_by_telegram_id(blocked)).active
        row = await uow.deliveries.delivery(campaign_id, blocked)
    assert row["attempts"] == 1 and "blocked" in row["last_error"]
    assert received(harness.api, ids)[blocked] == 0 and sum(received(harness.api, ids).values()) == 2
    # Blocked accounts are left out of the next campaign, until they write to the bot again.
    async with harness.services.database.unit_of_work() as uow:
        assert await uow.deliveries.count_audience(uow.deliveries.audience_select("everyone", None)) == 2


async def test_transient_errors_are_retried_a_bounded_number_of_times(harness: Harness) -> None:
    ids = await add_citizens(harness, 2)
    campaign_id = await start(harness, Audience.from_ids([ids[0]]))
    harness.api.fail_next("sendMessage", 502, "Bad Gateway")
    worker = worker_for(harness)
    await worker.run_once(10)
    harness.clock.advance(timedelta(seconds=5))  # past the back-off
    await worker.run_once(10)
    async with harness.services.database.unit_of_work() as uow:
        row = await uow.deliveries.delivery(campaign_id, ids[0])
    assert row["status"] == "sent" and row["attempts"] == 2
    second = await start(harness, Audience.from_ids([ids[1]]))
    harness.api.fail_next("sendMessage", 502, "Bad Gateway", times=10)
    worker = worker_for(harness, max_attempts=3)
    for _ in range(4):
        await worker.run_once(10)
        harness.clock.advance(timedelta(minutes=5))
    async with harness.services.database.unit_of_work() as uow:
        row = await uow.deliveries.delivery(second, ids[1])
    assert row["status"] == "failed" and row["attempts"] == 3


async def test_rejections_skips_and_renderer_bugs_each_end_one_row(harness: Harness) -> None:
    ids = await add_citizens(harness, 4)
    campaign_id = await start(harness, Audience("everyone"), skip=[ids[1]], explode=[ids[2]])
    harness.api.fail_next("sendMessage", 400, "Bad Request: chat not found")
    await worker_for(harness).run_once(100)
    async with harness.services.database.unit_of_work() as uow:
        statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
        progress = await campaign_progress(uow, campaign_id)
    assert statuses[ids[1]] == "skipped" and statuses[ids[2]] == "failed"
    assert sorted(statuses.values()) == ["failed", "failed", "sent", "skipped"]
    assert progress.status == "done" and progress.failed == 2 and progress.skipped == 1


async def test_a_read_timeout_is_unconfirmed_not_resent(tmp_path: Path, database_url: str) -> None:
    harness = await start_harness(tmp_path, database_url)
    try:
        ids = await add_citizens(harness, 2)
        api = TimingOutApi(slow_chats={ids[0]})
        # Swap the request layer under the same bot: the message arrives, the answer does not.
        harness.application.bot._request = (api, api)
        campaign_id = await start(harness, Audience("everyone"))
        await worker_for(harness).run_once(10)
        async with harness.services.database.unit_of_work() as uow:
            statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
            assert await uow.deliveries.requeue_unconfirmed(campaign_id, harness.clock.now()) == 1
        assert statuses == {ids[0]: "unconfirmed", ids[1]: "sent"}
        assert received(api, ids) == Counter({ids[0]: 1, ids[1]: 1})
    finally:
        await stop_harness(harness)


async def test_cancel_stops_the_pending_recipients(harness: Harness) -> None:
    ids = await add_citizens(harness, 10)
    campaign_id = await start(harness, Audience("everyone"))
    worker = worker_for(harness)
    await worker.run_once(4)
    async with harness.services.database.unit_of_work() as uow:
        assert await cancel_campaign(uow, campaign_id, harness.clock.now(), by=ADMIN_ID) == 6
        assert await cancel_campaign(uow, campaign_id, harness.clock.now()) is None
    assert await worker.run_once(100) == 0
    assert sum(received(harness.api, ids).values()) == 4
    async with harness.services.database.unit_of_work() as uow:
        progress = await campaign_progress(uow, campaign_id)
    assert progress.status == "cancelled" and progress.cancelled == 6 and progress.sent == 4


async def test_progress_is_edited_in_place_while_sending(harness: Harness) -> None:
    ids = await add_citizens(harness, 120)
    await start(harness, Audience("everyone"))
    worker = worker_for(harness, rate=200, progress_interval=0.1)
    await worker.start()
    try:
        # A deadline, not a count of naps: on a loaded machine 120 sends at up to 30/s can take well over 6 s.
        # The last edit ("Done") follows the last send by up to a progress interval and a turn of the worker.
        deadline = time.monotonic() + 60

        def finished() -> bool:
            reports = [m for (c, _), m in harness.api.messages.items() if c == ADMIN_ID]
            return sum(received(harness.api, ids).values()) == 120 and any("Done" in m.text for m in reports)

        while not finished() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
    [report] = [m for (c, _), m in harness.api.messages.items() if c == ADMIN_ID]
    assert report.edits >= 3, "the one progress message was edited several times"
    assert "Done" in report.text and "sent 120" in report.text


async def test_the_limiter_keeps_the_rate_over_every_rolling_second_and_pauses_for_everyone() -> None:
    limiter = OutgoingLimiter(bulk_rate=25.0, total=None)
    sent: list[float] = []
    began = time.monotonic()
    for _ in range(60):
        ticket = await limiter.reserve_bulk()
        with bulk_send(ticket):
            permit = await limiter.admit_bulk(None)
        sent.append(time.monotonic())
        permit.done()
    # 25 a second, evenly: 60 messages take more than two seconds, and no second holds 26.
    assert sent[-1] - began >= 59 / 25 - 0.01
    assert all(later - earlier >= 1.0 for earlier, later in zip(sent, sent[25:], strict=False))
    limiter.pause(1)
    before = time.monotonic()
    assert (await limiter.reserve_bulk()) is not None
    assert time.monotonic() - before >= 1.0


async def test_restart_after_a_crash_resumes_without_duplicates(harness: Harness) -> None:
    """~2,000 recipients at 1,000/s with 429 and 403 injected; the first worker dies half way."""
    ids = await add_citizens(harness, 2000)
    campaign_id = await start(harness, Audience("everyone"))
    for _ in range(3):
        harness.api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    first = worker_for(harness, concurrency=4, lease=timedelta(seconds=30))
    await first.start()
    harness.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await _until(lambda: sum(received(harness.api, ids).values()) >= 1000)
    for task in first._tasks:  # a crash: no graceful stop, in-flight claims are abandoned
        task.cancel()
    await asyncio.gather(*first._tasks, return_exceptions=True)
    if first.leadership._connection is not None:  # the dead process's connection drops, and its lock with it
        await first.leadership._connection.invalidate()
    midway = sum(received(harness.api, ids).values())
    assert 1000 <= midway < 2000

    harness.clock.advance(timedelta(seconds=31))  # the dead worker's leases run out
    second = worker_for(harness, concurrency=4)
    await second.start()
    try:
        for _ in range(1000):
            async with harness.services.database.unit_of_work() as uow:
                if (await campaign_progress(uow, campaign_id)).status == "done":
                    break
            await asyncio.sleep(0.05)
    finally:
        await second.stop()
    async with harness.services.database.unit_of_work() as uow:
        statuses = await uow.deliveries.statuses_by_recipient(campaign_id)
    got = received(harness.api, ids)
    assert max(got.values()) == 1, "nobody got the notice twice"
    tally = Counter(statuses.values())
    assert tally["blocked"] == 3 and tally["unconfirmed"] <= 4
    assert tally["sent"] + tally["blocked"] + tally["unconfirmed"] == 2000
    for telegram_id, status in statuses.items():
        if status == "sent":
            assert got[telegram_id] == 1
        elif status == "blocked":
            assert got[telegram_id] == 0


async def test_only_one_process_sends_on_postgresql_and_another_takes_over(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram's rate is per bot: with several processes, one sends at a time (an advisory lock)."""
    import bot.services.delivery.worker as delivery_module

    monkeypatch.setattr(delivery_module, "LEADERSHIP_POLL_SECONDS", 0.05)
    ids = await add_citizens(harness, 30)
    campaign_id = await start(harness, Audience("everyone"))
    one, two = worker_for(harness, rate=300), worker_for(harness, rate=300)
    if harness.services.database.dialect != "postgresql":
        assert await one.leadership.try_acquire() and await two.leadership.try_acquire()  # one process: it leads
        return
    await one.start()
    await two.start()
    try:
        await _until(lambda: sum(received(harness.api, ids).values()) >= 30)
        assert one.leadership.held and not two.leadership.held
        async with harness.services.database.unit_of_work() as uow:
            claimants = {(await uow.deliveries.delivery(campaign_id, i))["claimed_by"] for i in ids}
        assert claimants == {one.worker_id}
        await one.stop()  # the leader goes away: the other takes over
        second = await start(harness, Audience("everyone"))
        await _until(lambda: sum(received(harness.api, ids).values()) >= 60)
        assert two.leadership.held
        async with harness.services.database.unit_of_work() as uow:
            claimants = {(await uow.deliveries.delivery(second, i))["claimed_by"] for i in ids}
        assert claimants == {two.worker_id}
    finally:
        await one.stop()
        await two.stop()


async def test_a_stored_payload_that_does_not_fit_its_kind_fails_its_rows_not_the_worker(harness: Harness) -> None:
    from sqlalchemy import update

    from storage.models import CampaignRow

    ids = await add_citizens(harness, 2)
    broken = await start(harness, Audience("everyone"))
    async with harness.services.database.unit_of_work() as uow:  # a row written by hand, or by older code
        await uow._session.execute(update(CampaignRow).where(CampaignRow.id == broken).values(payload='{"txt": 1}'))
    fine = await start(harness, Audience("everyone"))
    await worker_for(harness).run_once(100)
    async with harness.services.database.unit_of_work() as uow:
        assert set((await uow.deliveries.statuses_by_recipient(broken)).values()) == {"failed"}
        assert (await uow.deliveries.delivery(broken, ids[0]))["last_error"] == "renderer failed: CampaignPayloadError"
        assert set((await uow.deliveries.statuses_by_recipient(fine)).values()) == {"sent"}
