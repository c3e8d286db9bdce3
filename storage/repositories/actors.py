"""Everything one update needs about its sender, in one round trip.

Every update reads the sender's language, conversation state and profile. Three
queries would triple the hot path's round trips, so one outer-joined SELECT
loads them together (each part may be missing).

The same SELECT reads what lets a confirmation skip statements (the morning peak): the
sender's stored status (an unchanged status is not written again), whether any health-authority
decision names them (none: the decisions query is skipped), whether any correction request is theirs (none:
the card's request line needs no query), whether any checkpoint reading is theirs (none: evaluation reads no
readings), whether they are staff of any checkpoint or hold any appointment as an administrator (neither:
the Mini App's "may scan" check runs no query) and the risk-area change counter (the
process's copy of the list is used while it has not moved). Each is handed to its own repository
as a hint for this transaction only.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import (AdministratorRow, CacheVersionRow, CheckpointReadingRow, CheckpointStaffRow,
                            ConversationStateRow, CorrectionRequestRow, DecisionRow, PreferenceRow, StatusRow, UserRow)
from storage.records import ActorSnapshot, ConversationState
from storage.repositories.administration import RISK_AREAS_VERSION, DecisionRepository, RiskAreaRepository
from storage.repositories.administrators import AdministratorRepository
from storage.repositories.checkpoints import CheckpointRepository
from storage.repositories.base import Repository, RowsSelect, table_of
from storage.repositories.conversations import ConversationRepository
from storage.repositories.corrections import CorrectionRepository
from storage.repositories.statuses import StatusRepository, stored_status_from
from storage.repositories.users import UserRepository

_preferences = table_of(PreferenceRow)
_states = table_of(ConversationStateRow)
_users = table_of(UserRow)
_statuses = table_of(StatusRow)
_decisions = table_of(DecisionRow)
_corrections = table_of(CorrectionRequestRow)
_versions = table_of(CacheVersionRow)
_readings = table_of(CheckpointReadingRow)
_staff = table_of(CheckpointStaffRow)
_admins = table_of(AdministratorRow)


def _build_query() -> RowsSelect:
    sender = select(bindparam("telegram_id", type_=BigInteger).label("telegram_id")).subquery("sender")
    has_decisions = exists().where(_decisions.c.user_id == _users.c.id)
    has_corrections = exists().where(_corrections.c.user_id == _users.c.id)
    has_readings = exists().where(_readings.c.user_id == _users.c.id)
    is_staff = exists().where(_staff.c.telegram_id == sender.c.telegram_id)
    has_appointments = exists().where(_admins.c.telegram_id == sender.c.telegram_id)
    risk_areas_version = (select(_versions.c.version).where(_versions.c.name == RISK_AREAS_VERSION)
                          .scalar_subquery())
    return select(
        _preferences.c.language,
        _states.c.flow,
        _states.c.step,
        _states.c.draft_enc,
        *(column.label(f"user_{column.name}") for column in _users.c),
        *(column.label(f"status_{column.name}") for column in _statuses.c),
        has_decisions.label("has_decisions"),
        has_corrections.label("has_corrections"),
        has_readings.label("has_readings"),
        is_staff.label("is_staff"),
        has_appointments.label("has_appointments"),
        risk_areas_version.label("risk_areas_version"),
    ).select_from(
        sender.outerjoin(_preferences, _preferences.c.telegram_id == sender.c.telegram_id)
        .outerjoin(_states, _states.c.telegram_id == sender.c.telegram_id)
        .outerjoin(_users, _users.c.telegram_id == sender.c.telegram_id)
        .outerjoin(_statuses, _statuses.c.user_id == _users.c.id)
    )


# Built once: constructing this statement costs more than SQLite takes to run it.
_QUERY = _build_query()


class ActorRepository(Repository):
    def __init__(self, users: UserRepository, conversations: ConversationRepository, session: AsyncSession,
                 cipher: FieldCipher, dialect: str) -> None:
        super().__init__(session, cipher, dialect)
        self._users = users
        self._conversations = conversations
        self._hinted: tuple[StatusRepository, DecisionRepository, RiskAreaRepository,
                            CorrectionRepository, CheckpointRepository, AdministratorRepository] | None = None

    def give_hints_to(self, statuses: StatusRepository, decisions: DecisionRepository,
                      risk_areas: RiskAreaRepository, corrections: CorrectionRepository,
                      checkpoints: CheckpointRepository, administrators: AdministratorRepository) -> None:
        """The repositories of this unit of work that take what load() read beside the sender."""
        self._hinted = (statuses, decisions, risk_areas, corrections, checkpoints, administrators)

    async def load(self, telegram_id: int) -> ActorSnapshot:
        row = (await self._session.execute(_QUERY, {"telegram_id": telegram_id})).one()._mapping
        state = None
        if row["flow"] is not None:
            draft = self._conversations.open_draft(telegram_id, row["draft_enc"])
            state = ConversationState(telegram_id, row["flow"], row["step"], draft)
        user = None
        if row["user_id"] is not None:
            user = self._users.profile_from({c.name: row[f"user_{c.name}"] for c in _users.c})
        if self._hinted is not None:
            statuses, decisions, risk_areas, corrections, checkpoints, administrators = self._hinted
            risk_areas.note_version(row["risk_areas_version"])
            if not row["is_staff"]:
                checkpoints.note_not_staff(telegram_id)
            if not row["has_appointments"]:
                administrators.note_none(telegram_id)
            if user is not None:
                stored = row["status_user_id"]
                statuses.note_stored(user.id, None if stored is None else
                                     stored_status_from({c.name: row[f"status_{c.name}"] for c in _statuses.c}))
                if not row["has_decisions"]:
                    decisions.note_none(user.id)
                if not row["has_corrections"]:
                    corrections.note_none(user.id)
                if not row["has_readings"]:
                    checkpoints.note_no_readings(user.id)
        return ActorSnapshot(language=row["language"], state=state, user=user)
