"""Helpers shared by the organisation, administration and broadcast tests (this module has no tests).

Everything goes through the real ptb Application and the local Bot API; bulk delivery (admin
notifications, invite codes, nudges, broadcasts) is sent by draining a real DeliveryWorker.
"""
from __future__ import annotations

from datetime import date

from bot.local.bot_api import SentMessage
from bot.local.chat import LocalUser
from bot.services.delivery.worker import DeliveryWorker
from handlers.delivery_sender import TelegramSender
from rules.validators import credit_code_check_char, resident_id_check_char
from storage.records import NewUser
from tests.handlers.conftest import ADMIN_ID, START, Harness
from tests.table_reads import audit_entries

ADMIN = LocalUser(ADMIN_ID, "Admin", "en")


def resident_id(n: int) -> str:
    body = f"330106199001{n % 28 + 1:02d}{n // 28 % 1000:03d}"
    return body + resident_id_check_char(body)


def phone(n: int) -> str:
    return f"138{n:08d}"


def credit_code(n: int) -> str:
    body = f"91330106{n:09d}"
    return body + credit_code_check_char(body)


async def drain(harness: Harness) -> int:
    """Send everything bulk delivery has waiting, now."""
    worker = DeliveryWorker(harness.services, TelegramSender(harness.services, harness.application.bot), rate=1000)
    return await worker.run_once(100_000)


def chat(harness: Harness, user: LocalUser | int) -> list[SentMessage]:
    """Every message a chat holds, oldest first."""
    telegram_id = user if isinstance(user, int) else user.telegram_id
    return sorted((m for (c, _), m in harness.api.messages.items() if c == telegram_id), key=lambda m: m.message_id)


def last_toast(harness: Harness) -> str | None:
    return harness.api.calls_to("answerCallbackQuery")[-1].params.get("text")


async def press_data(harness: Harness, user: LocalUser, data: str) -> list[SentMessage]:
    """Press a button with this callback data as if it sat on the user's latest message (e.g. a stale one)."""
    messages = chat(harness, user)
    target = messages[-1] if messages else SentMessage(message_id=1, chat_id=user.telegram_id, text="(none)")
    return await harness.chat.press_data(user, target, data)


async def register(harness: Harness, user: LocalUser, n: int, *, name: str = "张三", region: str = "330100") -> None:
    await harness.register(user, name=name, resident_id=resident_id(n), phone=phone(n), region=region)


async def add_citizens(harness: Harness, count: int, *, first: int = 70_000, region: str = "330100",
                       names: list[str] | None = None) -> list[int]:
    """Registered citizens straight through storage (fast); their Telegram ids."""
    ids = [first + n for n in range(count)]
    async with harness.services.database.unit_of_work() as uow:
        for n, telegram_id in enumerate(ids):
            name = names[n] if names else f"成员{n:03d}"
            await uow.users.add(NewUser(telegram_id, name, resident_id(first + n), phone(first + n), region, "test",
                                        START), START)
    return ids


async def request_organisation(harness: Harness, manager: LocalUser, n: int = 1, name: str = "Acme Ltd") -> int:
    await harness.say(manager, "/org_new")
    await harness.say(manager, name)
    await harness.say(manager, credit_code(n))
    await harness.press(manager, "Submit for approval")
    async with harness.services.database.unit_of_work() as uow:
        return (await uow.organisations.pending())[-1].id


async def approved_organisation(harness: Harness, manager: LocalUser, n: int = 1, name: str = "Acme Ltd") -> tuple[int, str]:
    """(organisation id, invite code) after the request and an administrator's approval."""
    organisation_id = await request_organisation(harness, manager, n, name)
    await harness.say(ADMIN, "/orgs_pending")
    await press_data(harness, ADMIN, f"orgadm:approve:{organisation_id}")
    await drain(harness)
    async with harness.services.database.unit_of_work() as uow:
        return organisation_id, (await uow.organisations.get(organisation_id)).invite_code


async def join(harness: Harness, user: LocalUser, code: str) -> list[SentMessage]:
    await harness.say(user, f"/join {code}")
    return await harness.press(user, "Join")


async def join_directly(harness: Harness, organisation_id: int, telegram_ids: list[int]) -> None:
    async with harness.services.database.unit_of_work() as uow:
        for telegram_id in telegram_ids:
            user = await uow.users.get_by_telegram_id(telegram_id)
            await uow.memberships.join(organisation_id, user.id, "test", START)


async def audit(harness: Harness, action: str | None = None):
    async with harness.services.database.unit_of_work() as uow:
        return await audit_entries(uow, limit=1000, action=action)


def today(harness: Harness) -> date:
    return harness.services.today()
