"""ptb's side of bot.rate_limit: every Bot API call the Application makes passes through here.

Bulk sends (made inside ``bot.rate_limit.bulk_send``) leave on the delivery worker's ticket and a
429 is raised to the worker, which puts the row back to pending: it is the worker's retry signal,
never swallowed. Everything else is a chat reply (or a call like getMe): it goes first, and after a
429 it is sent again once the pause is over, a few times at most, so a person still gets an answer.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.rate_limit import OutgoingLimiter, current_bulk

REPLY_RETRIES = 3
LONGEST_REPLY_PAUSE = 60.0  # a longer retry_after fails the reply rather than hold the person's turn


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int in ptb 22 and a timedelta later (or with PTB_TIMEDELTA)."""
    with warnings.catch_warnings():  # ptb 22 warns that the type becomes timedelta; we accept both
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramRateLimiter(BaseRateLimiter[None]):
    def __init__(self, limiter: OutgoingLimiter, *, reply_retries: int = REPLY_RETRIES) -> None:
        self.limiter = limiter
        self._reply_retries = reply_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        bulk = current_bulk()
        chat = data.get("chat_id")
        retries = 0
        while True:
            if bulk is None:
                permit = await self.limiter.admit_reply()
            else:
                permit = await self.limiter.admit_bulk(chat if isinstance(chat, int | str) else None, bulk)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = retry_seconds(error)
                self.limiter.pause(seconds)  # for every lane and every reply, until the clock says so
                if bulk is not None or retries >= self._reply_retries or seconds > LONGEST_REPLY_PAUSE:
                    raise
                retries += 1
            finally:
                permit.done()
