"""The container of app-wide dependencies, and the per-update context a use case works in."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot import update_outcome
from bot.card_rendering import CardRenderer
from bot.clock import Clock, local_today
from bot.i18n import Catalogue, choose_language
from bot.credentials.keyring import KeyRing
from bot.metrics import Metrics
from bot.replies import Reply
from bot.services.card_file_ids import CardFileIds
from bot.services.verification_records import IssuerRecordCache
from bot.settings import Settings
from bot.credentials.trust_sources import TrustSources
from rules.authority import ALL_ROLES, Authority
from rules.policy import Policy
from storage.database import Database
from storage.records import Claim, ConversationState, Organisation, UserProfile
from storage.unit_of_work import UnitOfWork

log = logging.getLogger("healthcode.turns")
DraftModel = TypeVar("DraftModel", bound=BaseModel)

# A write that must outlive a failed update, e.g. the audit row of a refused attempt.
DurableWrite = Callable[[UnitOfWork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent the update: only what Telegram tells us, never looked up."""

    telegram_id: int
    chat_id: int
    first_name: str = ""
    language_code: str | None = None


def _key_ring_unchanged() -> bool:
    return False


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    database: Database
    policy: Policy
    keyring: KeyRing
    catalogue: Catalogue
    trust: TrustSources  # our own key ring plus the trusted issuers' lists
    metrics: Metrics = field(default_factory=Metrics)
    issuer_records: IssuerRecordCache = field(default_factory=IssuerRecordCache)
    # Telegram's ids for sent card images, until they are written (bot.services.card_file_ids).
    card_file_ids: CardFileIds = field(default_factory=CardFileIds)
    # Fresh cards are drawn in worker processes once the runner has started them (bot.card_rendering).
    cards: CardRenderer = field(default_factory=CardRenderer)
    # The bot's @username once Telegram has told us (deep links such as t.me/<bot>?start=join_…).
    bot_username: str | None = None
    # The Bot API is the in-process stand-in (the shell, the tests): the Mini App then signs and serves
    # its own stand-in of telegram-web-app.js, with the local token.
    local_bot_api: bool = False
    # Looks at the key ring on disk again now; True when the ring in use was replaced. A serving process
    # sets it (bot.web.server.watch_key_ring); verification calls it for a kid of ours it does not know.
    reload_key_ring: Callable[[], bool] = _key_ring_unchanged

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    def today(self) -> date:
        return local_today(self.clock, self.tz)

    def is_admin(self, telegram_id: int) -> bool:
        return telegram_id in self.settings.admin_ids

    @property
    def issuer_region(self) -> str:
        """The six-digit region the issuer serves (``CN-330100`` → ``330100``): the root administrators' scope."""
        return self.settings.issuer.split("-", 1)[1]

    def root_authority(self, telegram_id: int) -> Authority | None:
        """Every role over the issuer's region, for the ids in ``HEALTHCODE_ADMIN_IDS``."""
        if not self.is_admin(telegram_id):
            return None
        return Authority(telegram_id, ALL_ROLES, self.issuer_region, root=True)


@dataclass(slots=True)
class Turn:
    """One update's worth of context: its unit of work, who is speaking, where they are."""

    services: Services
    uow: UnitOfWork
    actor: Actor
    language: str
    state: ConversationState | None
    user: UserProfile | None
    now: datetime
    today: date
    reply: Reply
    # The organisation a ``manager_of`` requirement checked the sender manages (bot.services.access).
    organisation: Organisation | None = None
    # The role and scope an ``authority(...)`` requirement found the sender holds (bot.services.access).
    authority: Authority | None = None
    durable_writes: list[DurableWrite] = field(default_factory=list, repr=False)

    @classmethod
    def start(
        cls,
        services: Services,
        uow: UnitOfWork,
        actor: Actor,
        language: str,
        now: datetime,
        *,
        user: UserProfile | None = None,
        state: ConversationState | None = None,
        durable_writes: list[DurableWrite] | None = None,
    ) -> Turn:
        """The one way to build a Turn: an update's (see :func:`turn_for`) or a job's for one user."""
        return cls(
            services=services,
            uow=uow,
            actor=actor,
            language=language,
            state=state,
            user=user,
            now=now,
            today=now.astimezone(services.tz).date(),
            reply=Reply(language),
            durable_writes=[] if durable_writes is None else durable_writes,
        )

    async def write_durably(self, write: DurableWrite) -> None:
        """Write now, in this turn's transaction; should the turn then fail and roll back, write it again
        in a transaction of its own. For records that must exist whatever happens next (refusals)."""
        self.durable_writes.append(write)
        await write(self.uow)

    def draft(self, kind: type[DraftModel]) -> DraftModel:
        """The current flow's answers as its typed draft."""
        return kind.model_validate(self.state.draft if self.state is not None else {})

    async def save_state(self, flow: str, step: str, draft: dict | BaseModel | None = None) -> None:
        """Move to ``step``; without a new ``draft`` the flow keeps the answers it has."""
        if isinstance(draft, BaseModel):
            draft = draft.model_dump(mode="json")
        elif draft is None:
            draft = dict(self.state.draft) if self.state is not None and self.state.flow == flow else {}
        self.state = ConversationState(self.actor.telegram_id, flow, step, draft)
        await self.uow.conversations.save(self.state, self.now)

    async def clear_state(self) -> None:
        if self.state is not None:
            await self.uow.conversations.clear(self.actor.telegram_id)
            self.state = None


@asynccontextmanager
async def turn_for(services: Services, actor: Actor) -> AsyncIterator[Turn]:
    """Open the update's unit of work, serialise it per user, and load what every flow needs.

    If the turn fails, its unit of work rolls back; its durable writes are then made again, in a
    unit of work of their own (on SQLite only after the failed one has let go of the writer slot).
    """
    durable_writes: list[DurableWrite] = []
    outcome = update_outcome.current()
    claim = outcome if outcome is not None and outcome.claim and not outcome.claimed else None
    try:
        async with _turn(services, actor, durable_writes, claim) as turn:
            yield turn
        if claim is not None:
            claim.claimed = True  # committed with the turn
    except update_outcome.NotRun:
        raise  # nothing ran: no durable writes to redo
    except Exception:
        if durable_writes:
            await _write_after_rollback(services, durable_writes)
        raise


async def _write_after_rollback(services: Services, writes: list[DurableWrite]) -> None:
    try:
        async with services.database.unit_of_work() as uow:
            for write in writes:
                await write(uow)
    except Exception as error:  # noqa: BLE001 - the update's own error is the one to report
        log.error("durable write(s) lost after a failed turn: %s", type(error).__name__)


@asynccontextmanager
async def _turn(services: Services, actor: Actor, durable_writes: list[DurableWrite],
                claim: update_outcome.UpdateOutcome | None) -> AsyncIterator[Turn]:
    async with services.database.unit_of_work() as uow:
        await uow.lock_user(actor.telegram_id)
        if claim is not None:
            await _claim_update(uow, claim, actor.telegram_id, services.clock.now())
        snapshot = await uow.actors.load(actor.telegram_id)
        language = choose_language(snapshot.language, actor.language_code, services.settings.default_language)
        state, user = snapshot.state, snapshot.user
        if user is not None and not user.active:
            # Marked inactive when a send found the bot blocked; writing again means unblocked.
            await uow.users.set_active(actor.telegram_id, True)
            user = replace(user, active=True)
        turn = Turn.start(services, uow, actor, language, services.clock.now(), user=user, state=state,
                          durable_writes=durable_writes)
        before = _where(state)
        yield turn
        # Flow names and step names only: never the answers.
        log.debug("turn %s -> %s, %d message(s)", before, _where(turn.state), len(turn.reply.messages))


async def _claim_update(uow: UnitOfWork, claim: update_outcome.UpdateOutcome, telegram_id: int,
                        now: datetime) -> None:
    """Under the person's lock: run this update only if it is new and no later one of theirs ran."""
    result = await uow.updates.claim(claim.update_id, telegram_id, now)
    if result is Claim.DUPLICATE:
        claim.duplicate = True
        raise update_outcome.AlreadyProcessed(claim.update_id)
    if result is Claim.SUPERSEDED:
        claim.superseded = True
        raise update_outcome.Superseded(claim.update_id)


async def language_of(services: Services, uow: UnitOfWork, telegram_id: int,
                      telegram_language_code: str | None = None) -> str:
    """A person's language when they are not the sender of this update (jobs, bulk messages, apologies).

    The sender's own turn reads the same preference in its one joined load; both apply ``choose_language``.
    """
    chosen = await uow.preferences.get_language(telegram_id)
    return choose_language(chosen, telegram_language_code, services.settings.default_language)


def _where(state: ConversationState | None) -> str:
    return f"{state.flow}/{state.step}" if state else "idle"
