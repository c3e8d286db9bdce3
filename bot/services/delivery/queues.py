"""Notices queued one row per person, handed to bulk delivery in bulk by the worker.

A feature whose action tells one person at a time (a declaration made in the Mini App: the chat gets
the card) would otherwise start a one-person campaign per action: four statements in the action's
transaction. Instead it queues a row of its own (one statement) and declares a queue::

    QUEUE = notice_queue("miniapp_declaration", hand_over_notices)

where ``hand_over_notices(services, now)`` starts one campaign for everyone waiting (``start_campaign``
with an audience drawn from the waiting rows) and removes those rows in the same transaction; how many
it handed over. The delivery worker calls every queue's hand-over about every ``QUEUE_INTERVAL_SECONDS``
while it holds the sender role, and before ``run_once``; the campaign's rows are then sent with the
worker's guarantee. A second queue of the same name stops start-up.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.services.context import Services

log = logging.getLogger("healthcode.delivery")

QUEUE_INTERVAL_SECONDS = 0.5  # a notice waits at most about this long before it is a campaign's row

HandOver = Callable[[Services, datetime], Awaitable[int]]


@dataclass(frozen=True)
class NoticeQueue:
    name: str
    hand_over: HandOver


_QUEUES: dict[str, NoticeQueue] = {}


def notice_queue(name: str, hand_over: HandOver) -> NoticeQueue:
    """Declare (and register) a queue the worker drains; a second of the same name stops start-up."""
    if name in _QUEUES:
        raise ValueError(f"two notice queues are named {name!r}")
    queue = _QUEUES[name] = NoticeQueue(name, hand_over)
    return queue


async def hand_over_queued(services: Services, now: datetime) -> int:
    """Every queue's waiting notices to bulk delivery; how many. A queue that fails is logged and tried
    again next time (its rows stay: the hand-over's transaction rolled back)."""
    handed = 0
    for queue in tuple(_QUEUES.values()):
        try:
            handed += await queue.hand_over(services, now)
        except Exception as error:  # noqa: BLE001 - one queue's trouble must not stop the others or the sends
            log.warning("notice queue %s: hand-over failed (%s); tried again later", queue.name, type(error).__name__)
    return handed


__all__ = ["HandOver", "NoticeQueue", "QUEUE_INTERVAL_SECONDS", "hand_over_queued", "notice_queue"]
