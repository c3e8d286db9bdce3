"""The one bulk-delivery mechanism: broadcasts, organisation nudges, notices, reminders.

A **campaign** is one bulk send. Its recipients are written as ``deliveries`` rows by one
INSERT … SELECT (streamed by the database, never a Python list). What each recipient sees is made
at send time by the renderer registered for the campaign's kind, so a message can be personal
(language, days left) or skipped (the person declared meanwhile).

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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import BigInteger, Select, literal, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.rate_limit import BulkTicket, OutgoingLimiter, SendHeldBack, bulk_send
from bot.replies import Reply, Text, t
from bot.services.context import Services
from rules.model import Colour
from rules.validators import parse_id, parse_number
from storage.records import (
    BLOCKED,
    FAILED,
    PENDING,
    SENT,
    SKIPPED,
    UNCONFIRMED,
    Campaign,
    DeliveryRecord,
    Progress,
)
from storage.database import Database
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("healthcode.delivery")

AUDIENCE_KINDS = ("everyone", "region", "organisation", "colour", "users")
PROGRESS_INTERVAL_SECONDS = 5.0
DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 60


# --- audiences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who receives a campaign. ``users`` carries an explicit SELECT of Telegram ids."""

    kind: str
    value: str | None = None
    select: Select | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"audience.kind: must be one of {', '.join(AUDIENCE_KINDS)}, got {self.kind!r}")
        if self.kind == "users":
            if self.select is None:
                raise ValueError("audience.select: a 'users' audience needs a SELECT of Telegram ids")
        elif self.kind == "region" and not (2 <= len(self.value or "") <= 6 and parse_number(self.value) is not None):
            raise ValueError("audience.value: a region prefix is 2 to 6 digits")
        elif self.kind == "organisation" and not (self.value and parse_id(self.value) is not None):
            raise ValueError("audience.value: an organisation audience needs the organisation's id")
        elif self.kind == "colour" and self.value not in {c.value for c in Colour}:
            raise ValueError("audience.value: a colour audience needs green, yellow or red")

    @classmethod
    def from_select(cls, ids: Select, label: str | None = None) -> Audience:
        """Recipients chosen by the caller's own query (its first column: Telegram ids)."""
        return cls("users", label, ids)

    @classmethod
    def from_ids(cls, telegram_ids: Iterable[int], label: str | None = None) -> Audience:
        """A handful of known accounts (e.g. the administrators), as a SELECT of literals."""
        parts = [select(literal(int(i), BigInteger).label("telegram_id")) for i in sorted(set(telegram_ids))]
        if not parts:
            parts = [select(literal(0, BigInteger).label("telegram_id")).where(literal(False))]
        return cls("users", label, parts[0] if len(parts) == 1 else union_all(*parts).subquery().select())


# --- renderers ---------------------------------------------------------------------------------

Renderer = Callable[[Services, Campaign, DeliveryRecord, UnitOfWork], Awaitable[Reply | None]]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    """What recipients of campaigns of ``kind`` see; called at send time inside the claim's transaction.

    Return None to skip the recipient (recorded as ``skipped``).
    """
    _RENDERERS[kind] = renderer


async def recipient_language(services: Services, uow: UnitOfWork, telegram_id: int) -> str:
    return await uow.deliveries.language_of(telegram_id) or services.settings.default_language


# --- campaigns ---------------------------------------------------------------------------------


async def start_campaign(
    uow: UnitOfWork,
    *,
    kind: str,
    created_by: int,
    payload: dict,
    audience: Audience,
    now: datetime,
    progress_chat_id: int | None = None,
    rate: float = 0.0,
) -> int:
    """Create the campaign and its pending deliveries in the caller's transaction; its id."""
    ids = audience.select if audience.kind == "users" else uow.deliveries.audience_select(audience.kind, audience.value)
    campaign_id = await uow.deliveries.create_campaign(
        kind=kind, created_by=created_by, payload=payload, audience_kind=audience.kind,
        audience_value=audience.value, rate=rate, now=now, progress_chat_id=progress_chat_id,
    )
    if await uow.deliveries.add_recipients(campaign_id, ids, now) == 0:
        await uow.deliveries.finish_if_done(campaign_id, now)
    return campaign_id


async def count_audience(uow: UnitOfWork, audience: Audience) -> int:
    ids = audience.select if audience.kind == "users" else uow.deliveries.audience_select(audience.kind, audience.value)
    return await uow.deliveries.count_audience(ids)


async def cancel_campaign(uow: UnitOfWork, campaign_id: int, now: datetime, by: int = 0) -> int | None:
    """Stop sending: pending recipients are cancelled (their count); None if it was not sending."""
    return await uow.deliveries.cancel(campaign_id, by=by, now=now)


async def campaign_progress(uow: UnitOfWork, campaign_id: int) -> Progress | None:
    return await uow.deliveries.progress(campaign_id)


def progress_text(campaign: Campaign, progress: Progress) -> Text:
    extra: list[Text] = []
    if progress.skipped:
        extra.append(t("delivery.progress_skipped", count=progress.skipped))
    if progress.unconfirmed:
        extra.append(t("delivery.progress_unconfirmed", count=progress.unconfirmed))
    if progress.cancelled:
        extra.append(t("delivery.progress_cancelled", count=progress.cancelled))
    return t(
        "delivery.progress",
        id=campaign.id,
        kind=t(f"delivery.kind.{campaign.kind}") if campaign.kind in _KNOWN_KINDS else campaign.kind,
        status=t(f"delivery.status.{progress.status}"),
        sent=progress.sent,
        failed=progress.failed,
        blocked=progress.blocked,
        remaining=progress.remaining,
        total=progress.total,
        extra=t("delivery.progress_extra", items=extra) if extra else "",
    )


# Kinds with a name in the catalogue (delivery.kind.*); others show their code.
_KNOWN_KINDS = frozenset({"broadcast", "org_nudge", "org_request", "org_decision", "decision", "reminder",
                          "status_notice"})


# --- sending -----------------------------------------------------------------------------------


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
        self.worker_id = worker_id or secrets.token_hex(8)
        self._campaigns: dict[int, Campaign] = {}
        self._file_ids: dict[str, str] = {}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._prepared = False
        self._last_progress: dict[int, tuple[int, ...]] = {}
        self.leadership = Leadership(services.database)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        await self._prepare()
        self._tasks = [asyncio.create_task(self._lane(n), name=f"delivery-lane-{n}") for n in range(self.concurrency)]
        self._tasks.append(asyncio.create_task(self._progress_loop(), name="delivery-progress"))
        log.info("delivery worker %s started: %g msg/s, %d lanes", self.worker_id, self.rate, self.concurrency)

    async def stop(self) -> None:
        """Finish in-flight sends (each settled), then post the final progress."""
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.leadership.held:
                await self._update_progress(force=True)
            await self.leadership.release()
            log.info("delivery worker %s stopped", self.worker_id)

    async def run_once(self, max_messages: int) -> int:
        """Deliver up to ``max_messages`` now, in this task, then update progress; how many were handled."""
        await self._prepare()
        await self._expire_leases()
        handled = 0
        while handled < max_messages and await self._process_one():
            handled += 1
        await self._update_progress(force=True)
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
        renderer = _RENDERERS.get(campaign.kind)
        if renderer is None:
            raise _RenderFailed(delivery.id, f"no renderer registered for kind {campaign.kind!r}")
        try:
            return await renderer(self.services, campaign, delivery, uow)
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

    # --- progress ----------------------------------------------------------------------------

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
                await self._update_progress(force=False)
            except Exception as error:  # noqa: BLE001 - progress is cosmetic; never stop sending for it
                _reraise_cancellation()
                log.warning("delivery progress update failed: %s", type(error).__name__)
            if not await self._sleep(self.progress_interval):
                return  # stop() posts the final progress

    async def _update_progress(self, *, force: bool) -> None:
        now = self.services.clock.now()
        async with self.services.database.unit_of_work() as uow:
            active = await uow.deliveries.campaigns(status="sending", limit=50)
            finished = [c.id for c in active if await uow.deliveries.finish_if_done(c.id, now)]
        for campaign in active:
            if campaign.progress_chat_id is None:
                continue
            await self._show_progress(campaign.id, force=force or campaign.id in finished)

    async def _show_progress(self, campaign_id: int, *, force: bool) -> None:
        async with self.services.database.unit_of_work() as uow:
            campaign = await uow.deliveries.campaign(campaign_id)
            progress = await uow.deliveries.progress(campaign_id)
            creating = campaign.progress_message_id is None and await uow.deliveries.claim_progress_message(campaign_id)
            language = await recipient_language(self.services, uow, campaign.progress_chat_id)
        fingerprint = (progress.sent, progress.failed, progress.blocked, progress.remaining, progress.skipped,
                       progress.unconfirmed, progress.cancelled, len(progress.status))
        if not creating and self._last_progress.get(campaign_id) == fingerprint and not force:
            return
        if campaign.progress_message_id is not None and campaign.progress_message_id < 0 and not creating:
            return  # another process is creating it
        self._last_progress[campaign_id] = fingerprint
        reply = Reply(language).say(progress_text(campaign, progress))
        if self.limiter.paused_for() > 0:
            return  # Telegram asked us to wait: progress can wait too
        try:
            if creating:
                sent = await self.sender.send(campaign.progress_chat_id, reply)
                async with self.services.database.unit_of_work() as uow:
                    await uow.deliveries.set_progress_message(campaign_id, sent.message_id)
            else:
                await self.sender.edit(campaign.progress_chat_id, campaign.progress_message_id, reply)
        except SendError as error:
            if isinstance(error, RetryLater):
                self.limiter.pause(error.seconds)
            if creating:  # let a later tick try again
                async with self.services.database.unit_of_work() as uow:
                    await uow.deliveries.set_progress_message(campaign_id, None)
            self._last_progress.pop(campaign_id, None)
            log.info("campaign %d: progress message not updated (%s)", campaign_id, type(error).__name__)


# PostgreSQL advisory lock (two-int form, "hc" namespace; 1 is migrations): one sending process.
_SENDER_LOCK = text("SELECT pg_try_advisory_lock(26723, 2)")
_SENDER_UNLOCK = text("SELECT pg_advisory_unlock(26723, 2)")
LEADERSHIP_POLL_SECONDS = 5.0


class Leadership:
    """Which process sends. The rate is the bot's (Telegram counts per bot), so with several bot
    processes on one PostgreSQL only the holder of a session advisory lock sends; the others wait
    and take over within seconds if it dies (its connection closes, the lock goes with it).
    SQLite deployments are one process: it always leads."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: AsyncConnection | None = None
        self._trying = asyncio.Lock()  # the lanes ask at once; one attempt answers them all

    @property
    def held(self) -> bool:
        return self._database.dialect != "postgresql" or self._connection is not None

    async def try_acquire(self) -> bool:
        if self.held:
            return True
        async with self._trying:
            return self.held or await self._attempt()

    async def _attempt(self) -> bool:
        connection = await self._database.engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            acquired = bool((await connection.execute(_SENDER_LOCK)).scalar_one())
        except BaseException:
            await connection.close()
            raise
        if not acquired:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.execute(_SENDER_UNLOCK)  # pooled connections outlive us: unlock first
            finally:
                await connection.close()


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


__all__ = [
    "AUDIENCE_KINDS",
    "Audience",
    "DeliveryWorker",
    "OutcomeUnknown",
    "RecipientBlocked",
    "RetryLater",
    "SendError",
    "SendRejected",
    "Sender",
    "Sent",
    "TransientSendError",
    "campaign_progress",
    "cancel_campaign",
    "count_audience",
    "progress_text",
    "recipient_language",
    "register_renderer",
    "start_campaign",
]
