"""One database transaction, with every repository sharing it."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.caches import RiskAreaCache
from storage.encryption import FieldCipher
from storage.repositories import (
    ActorRepository,
    ConversationRepository,
    CredentialRepository,
    DeclarationRepository,
    PreferenceRepository,
    ProcessedUpdateRepository,
    StatusRepository,
    UserRepository,
)
from storage.repositories.administration import (
    AuditRepository,
    CitizenLookupRepository,
    DecisionRepository,
    RiskAreaRepository,
)
from storage.repositories.administrators import AdministratorRepository
from storage.repositories.complaints import ComplaintRepository
from storage.repositories.checkpoints import CheckpointRepository
from storage.repositories.consents import ConsentRepository
from storage.repositories.corrections import CorrectionRepository
from storage.repositories.daily_counts import DailyCountRepository
from storage.repositories.delivery import DeliveryRepository
from storage.repositories.erasure import ErasureRepository, erased_in
from storage.repositories.imports import ImportRepository
from storage.repositories.family import FamilyRepository
from storage.repositories.key_check import DataKeyCheckRepository
from storage.repositories.miniapp_notices import MiniAppNoticeRepository
from storage.repositories.notices import StatusNoticeRepository
from storage.repositories.organisations import AccessLogRepository, MembershipRepository, OrganisationRepository
from storage.repositories.personal_data import PersonalDataRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.schedules import ScheduleRepository
from storage.repositories.sender_shares import SenderShareRepository
from storage.repositories.stats import StatsRepository
from storage.repositories.status_sweep import StatusSweepRepository
from storage.repositories.withdrawn import WithdrawnCredentialRepository

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(
    bindparam("key", type_=BigInteger())
)


class UnitOfWork:
    """``async with db.unit_of_work() as uow:`` commits on success, rolls back on error.

    A unit of work is single use: enter it once.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        dialect: str,
        writer_gate: asyncio.Lock | None = None,
        after_erasure: Callable[[], Awaitable[None]] | None = None,
        risk_area_cache: RiskAreaCache | None = None,
    ) -> None:
        self._session = sessions()
        self._writer_gate = writer_gate
        self._after_erasure = after_erasure
        self._dialect = dialect
        self._entered = False
        self.users = UserRepository(self._session, cipher, dialect)
        self.preferences = PreferenceRepository(self._session, cipher, dialect)
        self.conversations = ConversationRepository(self._session, cipher, dialect)
        self.declarations = DeclarationRepository(self._session, cipher, dialect)
        self.statuses = StatusRepository(self._session, cipher, dialect)
        self.credentials = CredentialRepository(self._session, cipher, dialect)
        self.updates = ProcessedUpdateRepository(self._session, cipher, dialect)
        self.actors = ActorRepository(self.users, self.conversations, self._session, cipher, dialect)
        self.consents = ConsentRepository(self._session, cipher, dialect)
        self.reminders = ReminderRepository(self._session, cipher, dialect)
        self.notices = StatusNoticeRepository(self._session, cipher, dialect)
        self.miniapp_notices = MiniAppNoticeRepository(self._session, cipher, dialect)  # the app's chat notices
        self.personal_data = PersonalDataRepository(self._session, cipher, dialect)
        self.erasure = ErasureRepository(self._session, cipher, dialect)
        # Employers and administrators.
        self.organisations = OrganisationRepository(self._session, cipher, dialect)
        self.memberships = MembershipRepository(self.users, self._session, cipher, dialect)
        self.access_log = AccessLogRepository(self._session, cipher, dialect)
        self.audit = AuditRepository(self._session, cipher, dialect)
        self.decisions = DecisionRepository(self._session, cipher, dialect)
        self.risk_areas = RiskAreaRepository(self._session, cipher, dialect, cache=risk_area_cache)
        self.administrators = AdministratorRepository(self._session, cipher, dialect)
        self.citizens = CitizenLookupRepository(self.users, self._session, cipher, dialect)
        self.deliveries = DeliveryRepository(self._session, cipher, dialect)
        self.stats = StatsRepository(self._session, cipher, dialect)
        self.daily_counts = DailyCountRepository(self._session, cipher, dialect)
        # Timed jobs and what they keep: schedules, retention, withdrawn credentials.
        self.schedules = ScheduleRepository(self._session, cipher, dialect)
        self.status_sweep = StatusSweepRepository(self._session, cipher, dialect)
        self.retention = RetentionRepository(self._session, cipher, dialect)
        self.withdrawn = WithdrawnCredentialRepository(self._session, cipher, dialect)
        self.key_check = DataKeyCheckRepository(self._session, cipher, dialect)
        # Imports of an authority's list: the records, and the digests kept for later registrations.
        self.imports = ImportRepository(self._session, cipher, dialect)
        # Correction requests and complaints.
        self.corrections = CorrectionRepository(self._session, cipher, dialect)
        self.complaints = ComplaintRepository(self._session, cipher, dialect)
        self.family = FamilyRepository(self._session, cipher, dialect)
        # Checkpoints: their staff, scans and the temperatures measured.
        self.checkpoints = CheckpointRepository(self._session, cipher, dialect)
        # The bot processes' shares of the outgoing Telegram rate (bot/rate_share.py).
        self.sender_shares = SenderShareRepository(self._session, cipher, dialect)
        self.actors.give_hints_to(self.statuses, self.decisions, self.risk_areas, self.corrections, self.checkpoints,
                                  self.administrators)

    async def __aenter__(self) -> UnitOfWork:
        if self._entered:
            raise RuntimeError("unit of work: already used; create a new one per transaction")
        self._entered = True
        if self._writer_gate is not None:
            await self._writer_gate.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                erased = erased_in(self._session)
                await self._session.commit()
                if erased and self._after_erasure is not None:
                    # Still inside the writer gate, so no writer of ours is in the middle of a transaction.
                    await self._after_erasure()
            else:
                await self._session.rollback()
        finally:
            try:
                await self._session.close()
            finally:
                if self._writer_gate is not None:
                    self._writer_gate.release()

    async def lock_user(self, telegram_id: int) -> None:
        """Serialise this person's updates across processes until the transaction ends.

        Call it first in the unit of work. On PostgreSQL it takes a transaction-scoped
        advisory lock keyed by the Telegram id. On SQLite it does nothing: every
        transaction starts with BEGIN IMMEDIATE, which already admits one writer at a time.
        """
        if self._dialect == "postgresql":
            await self._session.execute(_ADVISORY_LOCK, {"key": telegram_id})
