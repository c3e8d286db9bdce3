"""Webhook mode end to end: real HTTP POSTs to /telegram/webhook, the local Bot API as the outgoing side."""
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
from tests.handlers.conftest import START, make_settings

USER = {"id": 50001, "is_bot": False, "first_name": "Wei", "language_code": "en"}


@dataclass
class Hook:
    service: WebhookService
    api: LocalBotApi
    http: aiohttp.ClientSession

    @property
    def endpoint(self) -> str:
        return self.service.server.url + "/telegram/webhook"

    async def post(self, body: object, secret: str | None) -> tuple[int, str]:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
        async with self.http.post(self.endpoint, headers=headers, **kwargs) as response:
            return response.status, await response.text()

    def replies_to(self, chat_id: int) -> list[str]:
        return [message.body for (chat, _), message in sorted(self.api.messages.items()) if chat == chat_id]


def _message(update_id: int, text: str) -> dict:
    message = {"message_id": 100 + update_id, "date": int(START.timestamp()), "from": USER,
               "chat": {"id": USER["id"], "type": "private", "first_name": "Wei"}, "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def hook(tmp_path: Path, database_url: str) -> AsyncIterator[Hook]:
    clock = ManualClock(START)
    settings = make_settings(tmp_path, database_url, webhook_url="https://hc.example.cn")
    services = await create_services(settings, clock, local=True)
    api = LocalBotApi(clock_seconds=lambda: clock.now().timestamp())
    service = WebhookService(services, build_application(services, request=api), host="127.0.0.1", port=0)
    await service.start()
    http = aiohttp.ClientSession()
    yield Hook(service, api, http)
    await http.close()
    await service.stop()
    await services.database.dispose()


async def test_registers_the_webhook_with_a_random_secret(hook: Hook) -> None:
    (call,) = hook.api.calls_to("setWebhook")
    assert call.params["url"] == "https://hc.example.cn/telegram/webhook"
    assert call.params["secret_token"] == hook.service.secret and len(hook.service.secret) >= 32
    assert call.params["drop_pending_updates"] is False


async def test_wrong_or_missing_secret_is_403_and_nothing_is_processed(hook: Hook) -> None:
    assert (await hook.post(_message(1, "/start"), None))[0] == 403
    assert (await hook.post(_message(1, "/start"), "x" * 43))[0] == 403
    assert (await hook.post(_message(1, "/start"), hook.service.secret[:-1]))[0] == 403
    assert hook.replies_to(USER["id"]) == []
    # The same update with the right secret is then processed: the rejected deliveries were not recorded.
    status, _ = await hook.post(_message(1, "/start"), hook.service.secret)
    assert status == 200 and "Privacy notice" in hook.replies_to(USER["id"])[0]


async def test_200_comes_after_processing_and_a_repeated_update_id_is_ignored(hook: Hook) -> None:
    status, text = await hook.post(_message(7, "/start"), hook.service.secret)
    # The bot's answer was already sent when Telegram got its 200.
    assert (status, text) == (200, "ok") and len(hook.replies_to(USER["id"])) == 1
    status, text = await hook.post(_message(7, "/start"), hook.service.secret)
    assert (status, text) == (200, "ok: already processed") and len(hook.replies_to(USER["id"])) == 1
    # Two deliveries of one new update at once: one is processed, the other waits for it.
    results = await asyncio.gather(*(hook.post(_message(8, "/help"), hook.service.secret) for _ in range(2)))
    assert sorted(results) == [(200, "ok"), (200, "ok: already processed")]
    assert len(hook.replies_to(USER["id"])) == 2
    metrics = hook.service._services.metrics.webhook_deliveries
    assert metrics.value(result="processed") == 2 and metrics.value(result="duplicate") == 2


async def test_bad_bodies_are_400_with_a_reason(hook: Hook) -> None:
    for body in (b"not json", b"[1, 2]", {"message": {}}, {"update_id": "7"}, b"\xff\xfe"):
        status, text = await hook.post(body, hook.service.secret)
        assert status == 400 and "update_id" in text, body
    assert hook.replies_to(USER["id"]) == []


async def test_the_conversation_continues_across_webhook_updates(hook: Hook) -> None:
    secret = hook.service.secret
    await hook.post(_message(20, "/start"), secret)
    callback = {"update_id": 21, "callback_query": {
        "id": "cb1", "from": USER, "chat_instance": "1", "data": "reg:consent:yes",
        "message": {"message_id": 1, "date": int(START.timestamp()), "chat": {"id": USER["id"], "type": "private"},
                    "from": {"id": 100000001, "is_bot": True, "first_name": "Healthcode"}, "text": "notice"}}}
    assert (await hook.post(callback, secret))[0] == 200
    assert (await hook.post(_message(22, "张三"), secret))[0] == 200
    assert "resident ID" in hook.replies_to(USER["id"])[-1]


async def test_an_update_that_cannot_be_processed_is_not_acknowledged_and_the_retry_works(hook: Hook) -> None:
    from storage.database import Database
    from storage.encryption import FieldCipher

    services = hook.service._services
    working = services.database
    services.database = Database(f"sqlite+aiosqlite:///{services.settings.state_dir}/missing/dir/x.db",
                                 FieldCipher(bytes(32)))
    try:
        status, _ = await hook.post(_message(30, "/start"), hook.service.secret)
    finally:
        await services.database.dispose()
        services.database = working
    assert status == 500  # Telegram keeps the update and delivers it again
    status, text = await hook.post(_message(30, "/start"), hook.service.secret)
    assert (status, text) == (200, "ok") and "Privacy notice" in hook.replies_to(USER["id"])[-1]


# -- an update counts as processed only when its handlers completed and Telegram took the replies --

async def _is_processed(hook: Hook, update_id: int) -> bool:
    async with hook.service._services.database.unit_of_work() as uow:
        return await uow.updates.is_processed(update_id)


async def test_a_handler_that_raises_is_not_acknowledged_and_its_redelivery_is_processed_once(
        hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from bot.services import conversation

    working = conversation.COMMANDS["start"]
    failures = iter([RuntimeError("boom")])

    async def fails_once(turn, args):
        for error in failures:
            raise error
        await working.run(turn, args)

    monkeypatch.setitem(conversation.COMMANDS, "start", replace(working, run=fails_once))
    status, _ = await hook.post(_message(40, "/start"), hook.service.secret)
    assert status == 500 and not await _is_processed(hook, 40)
    assert hook.replies_to(USER["id"])[-1].startswith("Sorry, something went wrong")  # the user still hears
    assert (await hook.post(_message(40, "/start"), hook.service.secret)) == (200, "ok")
    assert await _is_processed(hook, 40)
    assert (await hook.post(_message(40, "/start"), hook.service.secret)) == (200, "ok: already processed")
    [apology, notice] = hook.replies_to(USER["id"])
    assert "Privacy notice" in notice
    metrics = hook.service._services.metrics.webhook_deliveries
    assert metrics.value(result="failed") == 1 and metrics.value(result="processed") == 1


@pytest.mark.parametrize("refusal", ["500", "429", "dropped"])
async def test_a_reply_telegram_did_not_take_is_not_acknowledged_and_the_redelivery_succeeds(
        hook: Hook, refusal: str) -> None:
    if refusal == "500":
        hook.api.fail_next("sendMessage", 500, "Internal Server Error")
    elif refusal == "429":
        hook.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    else:
        hook.api.drop_next("sendMessage")
    status, _ = await hook.post(_message(50, "/start"), hook.service.secret)
    assert status != 200 and not await _is_processed(hook, 50)
    assert hook.replies_to(USER["id"]) == []
    # Telegram delivers it again: now the reply goes out, once, and the update is recorded once.
    assert (await hook.post(_message(50, "/start"), hook.service.secret)) == (200, "ok")
    assert (await hook.post(_message(50, "/start"), hook.service.secret)) == (200, "ok: already processed")
    [notice] = hook.replies_to(USER["id"])
    assert "Privacy notice" in notice and await _is_processed(hook, 50)


@pytest.mark.parametrize(("code", "description"), [(403, "Forbidden: bot was blocked by the user"),
                                                    (400, "Bad Request: chat not found")])
async def test_a_final_refusal_is_acknowledged_since_a_redelivery_cannot_succeed(
        hook: Hook, code: int, description: str) -> None:
    hook.api.fail_next("sendMessage", code, description)
    assert (await hook.post(_message(60, "/start"), hook.service.secret)) == (200, "ok")
    assert await _is_processed(hook, 60)


# -- the claim lives in the update's own unit of work ------------------------------------------------

def _count_units_of_work(services) -> list[int]:
    opened = [0]
    database = services.database
    original = database.unit_of_work

    def counting(*args, **kwargs):
        opened[0] += 1
        return original(*args, **kwargs)

    database.unit_of_work = counting
    return opened


async def test_a_webhook_update_costs_no_transaction_beyond_its_own_turn(hook: Hook) -> None:
    from telegram import Update

    services = hook.service._services
    application = hook.service._application
    await hook.post(_message(80, "/start"), hook.service.secret)  # warm: the first reply may write more
    opened = _count_units_of_work(services)
    try:
        await application.process_update(Update.de_json(_message(81, "/help"), application.bot))
        direct = opened[0]
        opened[0] = 0
        assert (await hook.post(_message(82, "/help"), hook.service.secret)) == (200, "ok")
        assert opened[0] == direct == 1  # the turn's unit of work, which also claimed the update
        opened[0] = 0
        assert (await hook.post(_message(82, "/help"), hook.service.secret)) == (200, "ok: already processed")
        assert opened[0] == 1  # the redelivery's turn found the claim and rolled back
    finally:
        del services.database.unit_of_work
    assert await _is_processed(hook, 82) and not await _is_processed(hook, 81)


async def test_an_update_no_turn_handles_is_recorded_after_it_and_once(hook: Hook) -> None:
    assert (await hook.post({"update_id": 90}, hook.service.secret)) == (200, "ok")
    assert await _is_processed(hook, 90)
    assert (await hook.post({"update_id": 90}, hook.service.secret)) == (200, "ok: already processed")


async def test_a_crash_between_commit_and_reply_keeps_the_writes_and_skips_the_redelivery(
        hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README says: the claim committed with the turn, the process died before the reply
    (here: the reply fails and the un-claim that a live process would make never happens)."""
    from bot.runners.webhook import WebhookReceiver

    async def died_before_releasing(self, update_id: int) -> None:
        return None

    monkeypatch.setattr(WebhookReceiver, "_release", died_before_releasing)
    hook.api.fail_next("sendMessage", 500, "Internal Server Error")
    status, _ = await hook.post(_message(95, "/start"), hook.service.secret)
    assert status == 500 and await _is_processed(hook, 95)  # committed with the turn
    assert (await hook.post(_message(95, "/start"), hook.service.secret)) == (200, "ok: already processed")
    assert hook.replies_to(USER["id"]) == []  # that reply is lost; the next message is answered
    assert (await hook.post(_message(96, "/start"), hook.service.secret)) == (200, "ok")
    assert "Privacy notice" in hook.replies_to(USER["id"])[-1]
