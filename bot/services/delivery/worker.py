"""The delivery worker: sends every campaign's pending deliveries.

The :class:`DeliveryWorker` sends at ``HEALTHCODE_BROADCAST_RATE`` messages per second through the
bot's one outgoing limiter (bot.rate_limit, shared with chat replies and by all its lanes), pauses
everything when Telegram answers 429 RetryAfter, marks
Forbidden recipients blocked and their account inactive, retries transient errors a bounded number
of times, and edits the campaign's progress message about every 5 seconds.

Delivery guarantee
------------------
Each delivery goes through three steps, each its own committed transaction or API call:

1. **claim**: ``pending`` → ``sending`` with this worker's id and a lease (default 60 s);
2. **send**: one Bot API call;
3. **settle**: ``sent`` / ``blocked`` / ``failed`` / back to ``pending`` (429 or a transient error),
   written only while the claim is still this worker's.

So, across restarts and crashes:

* **Never twice.** A row is sent only by the worker holding its claim, and a row is never claimed
  again once it has left ``pending`` — except back to ``pending`` after Telegram said the message
  was *not* delivered (429, a connection error before the request reached Telegram).
* **Nobody skipped silently.** A graceful stop finishes every in-flight send and settles it. After a
  SIGKILL or power loss, rows whose claim was taken but not settled (at most one per lane, i.e. at
  most ``concurrency`` rows per crash) cannot be known to have been delivered or not: the Bot API
  has no idempotency key and no way to ask "did you deliver this?". When their lease runs out they
  become ``unconfirmed`` — counted and shown in /broadcast_status, never resent automatically.
  An administrator may choose to resend them (at-least-once for those few) with one button.
* **Read timeouts** are treated the same way (the request may have been delivered): ``unconfirmed``.

Renderers should return a Reply of exactly one message: one API call is the unit of this guarantee.
"""
from __future__ import annotations

import asyncio
import logging
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.rate_limit import BulkTicket, OutgoingLimiter, SendHeldBack, bulk_send
from bot.replies import Reply
from bot.services.context import Services
from bot.services.delivery.guardians import render_for_guardian
from bot.services.delivery.progress_reporter import ProgressReporter
from bot.services.delivery.queues import QUEUE_INTERVAL_SECONDS, hand_over_queued
from bot.services.delivery.renderers import kind_named
from bot.services.delivery.sending import (
    OutcomeUnknown,
    RecipientBlocked,
    RetryLater,
    SendError,
    Sender,
    Sent,
    TransientSendError,
)
from storage.leadership import Leadership
from storage.records import (
    BLOCKED,
    FAILED,
    PENDING,
    SENT,
    SKIPPED,
    UNCONFIRMED,
    Campaign,
    DeliveryRecord,
)
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("healthcode.delivery")

PROGRESS_INTERVAL_SECONDS = 5.0
DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 60
LEADERSHIP_POLL_SECONDS = 5.0


@dataclass(slots=True)
class _Claimed:
    delivery: DeliveryRecord
    campaign: Campaign
    reply: Reply


class DeliveryWorker:
    """Sends every campaign's pending deliveries; restartable; see the module docstring's guarantee."""

    def __init__(
        self,
        services: Services,
        sender: Sender,
        *,
        rate: float | None = None,
        concurrency: int | None = None,
        lease: timedelta = DEFAULT_LEASE,
        progress_interval: float = PROGRESS_INTERVAL_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        idle_poll: float = 0.5,
        queue_interval: float = QUEUE_INTERVAL_SECONDS,
        worker_id: str | None = None,
    ) -> None:
        self.services = services
        self.sender = sender
        # One limiter for the bot: the one on the sender's wire when it has one (production: chat
        # replies share it, and it sees every 429). Otherwise (the local Bot API, the bench) the
        # same kind, for bulk only; the worker then admits each send itself.
        shared: OutgoingLimiter | None = getattr(sender, "limiter", None)
        self.rate = shared.bulk_rate if shared is not None else rate or services.settings.broadcast_rate
        self.limiter = shared if shared is not None else OutgoingLimiter(bulk_rate=self.rate, total=None)
        self._limiter_on_the_wire = shared is not None
        # Lanes overlap the Bot API's round trips; one lane per ~0.25 s of messages keeps the rate.
        self.concurrency = concurrency or min(16, max(2, math.ceil(self.rate * 0.25)))
        self.lease = lease
        self.progress_interval = progress_interval
        self.max_attempts = max_attempts
        self.idle_poll = idle_poll
        self.queue_interval = queue_interval
        self.worker_id = worker_id or secrets.token_hex(8)
        self._campaigns: dict[int, Campaign] = {}
        self._file_ids: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._prepared = False
        self.progress = ProgressReporter(services, sender, self.limiter)
        self.leadership = Leadership(services.database)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        await self._prepare()
        self._tasks = [asyncio.create_task(self._lane(n), name=f"delivery-lane-{n}") for n in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._progress_loop(), name="delivery-progress"))
        self._tasks.append(asyncio.create_task(self._queue_loop(), name="delivery-queues"))
        log.info("delivery worker %s started: %g msg/s, %d lanes", self.worker_id, self.rate, self.concurrency)

    async def stop(self) -> None:
        """Finish in-flight sends (each settled), then post the final progress."""
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.leadership.held:
                await self.progress.update(force=True)
            await self.leadership.release()
            log.info("delivery worker %s stopped", self.worker_id)

    async def run_once(self, max_messages: int) -> int:
        """Deliver up to ``max_messages`` now, in this task, then update progress; how many were handled."""
        await self._prepare()
        await self._expire_leases()
        await hand_over_queued(self.services, self.services.clock.now())
        handled = 0
        while handled < max_messages and await self._process_one():
            handled += 1
        await self.progress.update(force=True)
        return handled

    async def _prepare(self) -> None:
        if not self._prepared:
            await self.sender.prepare()
            self._prepared = True

    # --- lanes -------------------------------------------------------------------------------

    async def _lane(self, number: int) -> None:
        while not self._stopping.is_set():
            _reraise_cancellation()  # in case a cancellation was swallowed below us
            if not await self._lead():
                await self._sleep(LEADERSHIP_POLL_SECONDS)
                continue
            try:
                worked = await self._process_one()
            except Exception as error:  # noqa: BLE001 - a lane must outlive any one bad delivery
                _reraise_cancellation()
                log.error("delivery lane %d: %s", number, type(error).__name__)
                worked = False
            if not worked:
                await self._sleep(self.idle_poll)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False means "stop now"."""
        if self._stopping.is_set():
            return False
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def _process_one(self) -> bool:
        # The slot first, the claim second: a row is claimed only when it can leave at once, so
        # no row sits claimed ("sending") through a 429 pause or a full window.
        ticket = await self.limiter.reserve_bulk(self._stop_signal())
        if ticket is None:
            return False
        try:
            claimed = await self._claim()
            if claimed is None:
                return False
            if isinstance(claimed, bool):
                return claimed  # handled without sending (skipped or failed to render)
            await self._send_and_settle(claimed, ticket)
            return True
        finally:
            ticket.release()  # unless the send spent it

    def _stop_signal(self) -> asyncio.Event | None:
        # run_once (no lanes) must wait out the rate and pauses too, but has no stop signal.
        return self._stopping if self._tasks else None

    async def _claim(self) -> _Claimed | bool | None:
        services = self.services
        now = services.clock.now()
        try:
            async with services.database.unit_of_work() as uow:
                delivery = await uow.deliveries.claim_next(self.worker_id, now, now + self.lease)
                if delivery is None:
                    return None
                campaign = await self._campaign(uow, delivery.campaign_id)
                reply = await self._render(uow, campaign, delivery)
                if reply is None:
                    await uow.deliveries.settle(delivery.id, self.worker_id, SKIPPED, now)
                    return True
                return _Claimed(delivery, campaign, self._with_cached_files(reply))
        except _RenderFailed as failure:
            # The claim was rolled back with the renderer's writes; record the failure on its own.
            async with services.database.unit_of_work() as uow:
                await uow.deliveries.fail_unsent(failure.delivery_id, failure.reason, now)
            return True

    async def _render(self, uow: UnitOfWork, campaign: Campaign, delivery: DeliveryRecord) -> Reply | None:
        kind = kind_named(campaign.kind)
        if kind is None:
            raise _RenderFailed(delivery.id, f"no renderer registered for kind {campaign.kind!r}")
        try:  # the stored payload is validated here too: a bad one fails this recipient, not the lane
            if delivery.on_behalf_of:
                return await render_for_guardian(kind, self.services, campaign, delivery, uow)
            return await kind.render_for(self.services, campaign, delivery, uow)
        except Exception as error:  # noqa: BLE001 - one recipient's bad data must not stop the campaign
            log.error("campaign %d: renderer failed: %s", campaign.id, type(error).__name__)
            raise _RenderFailed(delivery.id, f"renderer failed: {type(error).__name__}") from None

    async def _campaign(self, uow: UnitOfWork, campaign_id: int) -> Campaign:
        campaign = self._campaigns.get(campaign_id)
        if campaign is None:
            campaign = await uow.deliveries.campaign(campaign_id)
            if campaign is None:  # deleted under us (retention); the FK cascade removes its rows too
                raise LookupError(f"campaign {campaign_id} vanished")
            self._campaigns[campaign_id] = campaign
        return campaign

    def _with_cached_files(self, reply: Reply) -> Reply:
        messages = []
        for message in reply.messages:
            attachment = message.attachment
            if attachment is not None and attachment.cache_key and attachment.cache_key in self._file_ids:
                attachment = replace(attachment, telegram_file_id=self._file_ids[attachment.cache_key])
                message = replace(message, attachment=attachment)
            messages.append(message)
        reply.messages = messages
        return reply

    def _remember_files(self, reply: Reply, sent: Sent) -> None:
        for message in reply.messages:
            attachment = message.attachment
            if attachment is not None and attachment.cache_key and sent.photo_file_id:
                self._file_ids.setdefault(attachment.cache_key, sent.photo_file_id)

    async def _send_and_settle(self, claimed: _Claimed, ticket: BulkTicket) -> None:
        delivery = claimed.delivery
        status, error, not_before, blocked = SENT, None, None, False
        try:
            with bulk_send(ticket, self._stop_signal()):
                if self._limiter_on_the_wire:
                    sent = await self.sender.send(delivery.telegram_id, claimed.reply)
                else:
                    permit = await self.limiter.admit_bulk(delivery.telegram_id)
                    try:
                        sent = await self.sender.send(delivery.telegram_id, claimed.reply)
                    finally:
                        permit.done()
            self._remember_files(claimed.reply, sent)
        except SendHeldBack as held:
            # A pause began after the claim (or we are stopping): nothing left, the row is due again.
            status, error = PENDING, str(held)
        except RetryLater as retry:
            # Telegram's flood control is per bot: pause every lane; the row itself is due at once.
            self.limiter.pause(retry.seconds)
            status, error = PENDING, str(retry)
        except RecipientBlocked as refusal:
            status, error, blocked = BLOCKED, str(refusal), True
        except OutcomeUnknown as unknown:
            status, error = UNCONFIRMED, f"outcome unknown: {unknown}"
        except TransientSendError as transient:
            status, error, not_before = self._retry_or_fail(delivery, str(transient))
        except SendError as rejected:
            status, error = FAILED, str(rejected)
        except Exception as unexpected:  # noqa: BLE001 - the claim must be settled whatever happened
            # Raised before the request left (drawing a card, a client already closed at shutdown):
            # nothing was delivered, so it is retried like a transient error.
            log.error("campaign %d: send failed with %s", delivery.campaign_id, type(unexpected).__name__)
            status, error, not_before = self._retry_or_fail(delivery, f"unexpected {type(unexpected).__name__}")
        await self._settle(delivery, status, error, not_before, blocked)

    def _retry_or_fail(self, delivery: DeliveryRecord, error: str) -> tuple[str, str, datetime | None]:
        if delivery.attempts >= self.max_attempts:
            return FAILED, error, None
        backoff = min(MAX_BACKOFF_SECONDS, 2 ** delivery.attempts)
        return PENDING, error, self.services.clock.now() + timedelta(seconds=backoff)

    async def _settle(self, delivery: DeliveryRecord, status: str, error: str | None, not_before: datetime | None,
                      blocked: bool) -> None:
        now = self.services.clock.now()
        async with self.services.database.unit_of_work() as uow:
            await uow.deliveries.settle(delivery.id, self.worker_id, status, now, error=error, not_before=not_before)
            if blocked:
                await uow.users.set_active(delivery.telegram_id, False)

    async def _expire_leases(self) -> None:
        async with self.services.database.unit_of_work() as uow:
            expired = await uow.deliveries.expire_leases(self.services.clock.now())
        if expired:
            log.warning("%d deliveries were in flight when their worker stopped: marked unconfirmed", expired)

    # --- leadership and progress -------------------------------------------------------------

    async def _lead(self) -> bool:
        try:
            return await self.leadership.try_acquire()
        except Exception as error:  # noqa: BLE001 - the database is away; try again later
            log.warning("delivery: cannot take the sender role (%s)", type(error).__name__)
            return False

    async def _progress_loop(self) -> None:
        while not self._stopping.is_set():
            _reraise_cancellation()
            if not await self._lead():
                await self._sleep(LEADERSHIP_POLL_SECONDS)
                continue
            try:
                await self._expire_leases()
                await self.progress.update(force=False)
            except Exception as error:  # noqa: BLE001 - progress is cosmetic; never stop sending for it
                _reraise_cancellation()
                log.warning("delivery progress update failed: %s", type(error).__name__)
            if not await self._sleep(self.progress_interval):
                return  # stop() posts the final progress

    async def _queue_loop(self) -> None:
        """The queued notices (bot.services.delivery.queues) become campaigns' rows, in bulk."""
        while not self._stopping.is_set():
            _reraise_cancellation()
            if not await self._lead():
                await self._sleep(LEADERSHIP_POLL_SECONDS)
                continue
            await hand_over_queued(self.services, self.services.clock.now())  # logs its own failures
            if not await self._sleep(self.queue_interval):
                return


def _reraise_cancellation() -> None:
    """Database drivers may turn a cancellation into their own error (asyncpg does); a cancelled
    task must still end, or whoever cancelled it waits for ever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class _RenderFailed(Exception):
    def __init__(self, delivery_id: int, reason: str) -> None:
        super().__init__(reason)
        self.delivery_id = delivery_id
        self.reason = reason


__all__ = ["DEFAULT_LEASE", "DeliveryWorker", "LEADERSHIP_POLL_SECONDS"]
