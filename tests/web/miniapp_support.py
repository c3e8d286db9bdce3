"""Helpers for the Mini App tests: signed initData for a local user, and draining bulk delivery."""
from __future__ import annotations

from datetime import timedelta

from bot.local.bot_api import LOCAL_TOKEN, SentMessage
from bot.local.chat import LocalUser
from bot.services.delivery.worker import DeliveryWorker
from bot.web.init_data import fields_for, sign
from handlers.delivery_sender import TelegramSender
from tests.handlers.conftest import Harness


def init_data_for(harness: Harness, user: LocalUser, *, age: timedelta = timedelta(0)) -> str:
    auth_date = harness.clock.now() - age
    return sign(fields_for(user.telegram_id, user.first_name, user.language_code, auth_date), bot_token=LOCAL_TOKEN)


def auth(harness: Harness, user: LocalUser) -> dict[str, str]:
    return {"Authorization": "tma " + init_data_for(harness, user)}


async def deliver(harness: Harness) -> list[SentMessage]:
    """Send what bulk delivery has waiting, as the bot's worker would; the messages it sent."""
    first = len(harness.api.changes)
    worker = DeliveryWorker(harness.services, TelegramSender(harness.services, harness.application.bot), rate=1000)
    await worker.run_once(100)
    return [harness.api.messages[key] for key in dict.fromkeys(harness.api.changes[first:]) if key in harness.api.messages]


DECLARATION = {"temperature": "36.6", "symptoms": [], "contact": "no", "travel": "none", "diagnosis": "none"}
