"""Everything one update needs about its sender, in one round trip.

Every update reads the sender's language, conversation state and profile. Three
queries would triple the hot path's round trips, so one outer-joined SELECT
loads them together (each part may be missing).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.encryption import FieldCipher
from storage.models import ConversationStateRow, PreferenceRow, UserRow
from storage.records import ActorSnapshot, ConversationState
from storage.repositories.base import Repository, RowsSelect, table_of
from storage.repositories.conversations import ConversationRepository
from storage.repositories.users import UserRepository

_preferences = table_of(PreferenceRow)
_states = table_of(ConversationStateRow)
_users = table_of(UserRow)


def _build_query() -> RowsSelect:
    sender = select(bindparam("telegram_id", type_=BigInteger).label("telegram_id")).subquery("sender")
    return select(
        _preferences.c.language,
        _states.c.flow,
        _states.c.step,
        _states.c.draft_enc,
        *(column.label(f"user_{column.name}") for column in _users.c),
    ).select_from(
        sender.outerjoin(_preferences, _preferences.c.telegram_id == sender.c.telegram_id)
        .outerjoin(_states, _states.c.telegram_id == sender.c.telegram_id)
        .outerjoin(_users, _users.c.telegram_id == sender.c.telegram_id)
    )


# Built once: constructing this statement costs more than SQLite takes to run it.
_QUERY = _build_query()


class ActorRepository(Repository):
    def __init__(self, users: UserRepository, conversations: ConversationRepository, session: AsyncSession,
                 cipher: FieldCipher, dialect: str) -> None:
        super().__init__(session, cipher, dialect)
        self._users = users
        self._conversations = conversations

    async def load(self, telegram_id: int) -> ActorSnapshot:
        row = (await self._session.execute(_QUERY, {"telegram_id": telegram_id})).one()._mapping
        state = None
        if row["flow"] is not None:
            draft = self._conversations.open_draft(telegram_id, row["draft_enc"])
            state = ConversationState(telegram_id, row["flow"], row["step"], draft)
        user = None
        if row["user_id"] is not None:
            user = self._users.profile_from({c.name: row[f"user_{c.name}"] for c in _users.c})
        return ActorSnapshot(language=row["language"], state=state, user=user)
