"""A person's webhook updates run in update_id order, even across bot processes.

Two ``WebhookService``s on one database are what two `healthcode run` processes see: separate
Applications, engines and per-process locks. Deliveries race (Telegram's webhook connections, the
kernel spreading them over processes): an update that arrives after a later one of the same person
was handled is acknowledged and not run.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.application import build_application
from bot.bootstrap import create_services
from bot.clock import ManualClock
from bot.local.bot_api import LocalBotApi
from bot.runners.webhook import SECRET_HEADER, WebhookService
from storage.records import Claim
from storage.repositories.updates import ProcessedUpdateRepository
from tests.handlers.conftest import START, make_settings

SECRET = "order-secret"


def _message(update_id: int, user_id: int, text: str = "/help") -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": "Wei", "language_code": "en"}
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(START.timestamp()), "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": "Wei"}, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


@dataclass
class Processes:
    services: list[WebhookService]
    http: aiohttp.ClientSession
    ran: list[tuple[int, int]]  # (telegram id, update id) in the order their turns claimed them

    async def post(self, process: int, body: dict) -> tuple[int, str]:
        url = self.services[process].server.url + "/telegram/webhook"
        async with self.http.post(url, json=body, headers={SECRET_HEADER: SECRET}) as response:
            return response.status, await response.text()


@pytest.fixture
async def processes(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Processes]:
    ran: list[tuple[int, int]] = []
    claim = ProcessedUpdateRepository.claim

    async def recording_claim(self, update_id, telegram_id, now):  # type: ignore[no-untyped-def]
        result = await claim(self, update_id, telegram_id, now)
        if result is Claim.FIRST:
            ran.append((telegram_id, update_id))
        return result

    monkeypatch.setattr(ProcessedUpdateRepository, "claim", recording_claim)
    clock = ManualClock(START)
    started = []
    for index in range(2):
        settings = make_settings(tmp_path, database_url, webhook_url="https://hc.example.cn", webhook_secret=SECRET)
        services = await create_services(settings, clock, local=True)
        api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
        service = WebhookService(services, build_application(services, request=api), host="127.0.0.1", port=0,
                                 register=index == 0)
        await service.start()
        started.append(service)
    http = aiohttp.ClientSession()
    yield Processes(started, http, ran)
    await http.close()
    for service in started:
        await service.stop()
        await service._services.database.dispose()


async def test_an_update_older_than_one_handled_for_that_person_is_acknowledged_and_not_run(
        processes: Processes) -> None:
    assert await processes.post(1, _message(20, 81001)) == (200, "ok")
    # Update 19 of the same person reaches the other process afterwards: running it now would put
    # the person's steps out of order, and a redelivery would be just as late, so it is acknowledged.
    assert await processes.post(0, _message(19, 81001)) == (200, "ok: superseded by a later update")
    assert await processes.post(0, _message(19, 81001)) == (200, "ok: superseded by a later update")
    # Someone else's older update is theirs alone: it runs.
    assert await processes.post(0, _message(18, 81002)) == (200, "ok")
    # The later update itself, delivered again, is a duplicate, not "superseded".
    assert await processes.post(0, _message(20, 81001)) == (200, "ok: already processed")
    assert processes.ran == [(81001, 20), (81002, 18)]
    metrics = processes.services[0]._services.metrics.webhook_deliveries
    assert metrics.value(result="superseded") == 2


async def test_racing_deliveries_of_one_person_over_two_processes_never_run_out_of_order(
        processes: Processes) -> None:
    updates = list(range(100, 140))
    results = await asyncio.gather(*(processes.post(n % 2, _message(n, 82001)) for n in updates))
    assert {status for status, _ in results} == {200}
    ran = [update_id for _, update_id in processes.ran]
    assert ran == sorted(ran) and ran[-1] == updates[-1]  # in order, and the newest always runs
    skipped = [n for n, (_, text) in zip(updates, results) if text == "ok: superseded by a later update"]
    assert sorted(ran + skipped) == updates  # each either ran once or was superseded
