"""The Telegram side of bulk delivery: send a rendered Reply, and say what an error means for it.

bot.services.delivery knows nothing of ptb; this adapter turns ptb's exceptions into its
vocabulary (retry later, blocked, rejected, transient, outcome unknown).
"""
from __future__ import annotations

from typing import Literal

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.rate_limit import OutgoingLimiter
from bot.replies import Reply
from bot.services.context import Services
from bot.services.delivery.sending import (
    OutcomeUnknown,
    RecipientBlocked,
    RetryLater,
    SendRejected,
    Sent,
    TransientSendError,
)
from handlers.rate_limiter import TelegramRateLimiter, retry_seconds
from handlers.render import edit_message, send_reply


class TelegramSender:
    def __init__(self, services: Services, bot: Bot) -> None:
        self._services = services
        self._bot = bot

    @property
    def limiter(self) -> OutgoingLimiter | None:
        """The limiter on this bot's wire (production), which bulk delivery then paces through; None
        for a bot without one (the local Bot API, the bench)."""
        rate_limiter = getattr(self._bot, "rate_limiter", None)
        return rate_limiter.limiter if isinstance(rate_limiter, TelegramRateLimiter) else None

    async def prepare(self) -> None:
        await self._bot.initialize()  # idempotent; learns the bot's username for deep links
        self._services.bot_username = self._bot.username

    async def send(self, chat_id: int, reply: Reply) -> Sent:
        with _translated_errors():
            messages = (await send_reply(self._services, self._bot, chat_id, reply)).messages
        last = messages[-1] if messages else None
        photo = next((m.photo_file_id for m in messages if m.photo_file_id), None)
        return Sent(message_id=last.message_id if last else None, photo_file_id=photo)

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None:
        with _translated_errors():
            await edit_message(self._services, self._bot, chat_id, message_id, reply)


class _translated_errors:
    """Map ptb errors to delivery outcomes. Order matters: TimedOut is a NetworkError."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: object
    ) -> Literal[False]:
        if error is None or not isinstance(error, TelegramError):
            return False
        if isinstance(error, RetryAfter):
            raise RetryLater(retry_seconds(error)) from None
        if isinstance(error, Forbidden):
            raise RecipientBlocked(error.message) from None
        if isinstance(error, TimedOut):
            if error.message.lower().startswith("pool timeout"):
                raise TransientSendError(error.message) from None  # never left this process
            raise OutcomeUnknown(error.message) from None
        if isinstance(error, BadRequest):
            raise SendRejected(error.message) from None
        if isinstance(error, (NetworkError, InvalidToken)):
            raise TransientSendError(error.message) from None
        raise SendRejected(error.message) from None
