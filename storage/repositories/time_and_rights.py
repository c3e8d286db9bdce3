"""The time-and-data-rights repositories, reached as ``uow.rights.<name>``."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.repositories.consents import ConsentRepository
from storage.repositories.daily_counts import DailyCountRepository
from storage.repositories.erasure import ErasureRepository
from storage.repositories.notices import StatusNoticeRepository
from storage.repositories.personal_data import PersonalDataRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.schedules import ScheduleRepository
from storage.repositories.status_sweep import StatusSweepRepository
from storage.repositories.withdrawn import WithdrawnCredentialRepository


class TimeAndRights:
    """Schedules, consents, reminders, notices, counts, withdrawals, erasure, retention, exports."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, dialect: str) -> None:
        self.schedules = ScheduleRepository(session, cipher, dialect)
        self.consents = ConsentRepository(session, cipher, dialect)
        self.reminders = ReminderRepository(session, cipher, dialect)
        self.notices = StatusNoticeRepository(session, cipher, dialect)
        self.daily_counts = DailyCountRepository(session, cipher, dialect)
        self.withdrawn = WithdrawnCredentialRepository(session, cipher, dialect)
        self.erasure = ErasureRepository(session, cipher, dialect)
        self.retention = RetentionRepository(session, cipher, dialect)
        self.personal_data = PersonalDataRepository(session, cipher, dialect)
        self.status_sweep = StatusSweepRepository(session, cipher, dialect)
