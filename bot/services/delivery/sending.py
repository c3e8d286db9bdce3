"""The sender's vocabulary: what a send returns, and what its failure means for the delivery."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.replies import Reply


class SendError(Exception):
    """A send did not (certainly) deliver. Messages carry Telegram's description, never the text sent."""


class RetryLater(SendError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class RecipientBlocked(SendError):
    """The person blocked the bot or deleted their account (403)."""


class SendRejected(SendError):
    """Telegram refused this message for good (400 and the like)."""


class TransientSendError(SendError):
    """The request did not get through (connection refused, 5xx): safe to try again."""


class OutcomeUnknown(SendError):
    """The request may have been delivered (read timeout): never retried automatically."""


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None
    photo_file_id: str | None = None


class Sender(Protocol):
    # Optional ``limiter`` attribute: the OutgoingLimiter on the sender's wire, shared with chat replies.

    async def prepare(self) -> None: ...

    async def send(self, chat_id: int, reply: Reply) -> Sent: ...

    async def edit(self, chat_id: int, message_id: int, reply: Reply) -> None: ...


__all__ = ["OutcomeUnknown", "RecipientBlocked", "RetryLater", "SendError", "SendRejected", "Sender", "Sent",
           "TransientSendError"]
