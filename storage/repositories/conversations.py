"""Where each person is in a multi-step flow. Drafts are sealed: they may hold a half-typed ID."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select

from storage.models import ConversationStateRow
from storage.records import ConversationState
from storage.repositories.base import Repository, require_aware, table_of

_states = table_of(ConversationStateRow)
_CLEAR = delete(_states).where(_states.c.telegram_id == bindparam("telegram_id")).returning(_states.c.telegram_id)


def _context(telegram_id: int) -> bytes:
    return f"conversation_states.draft:{telegram_id}".encode()


class ConversationRepository(Repository):
    async def get(self, telegram_id: int) -> ConversationState | None:
        query = select(_states.c.flow, _states.c.step, _states.c.draft_enc).where(
            _states.c.telegram_id == telegram_id
        )
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        draft = self.open_draft(telegram_id, row.draft_enc)
        return ConversationState(telegram_id=telegram_id, flow=row.flow, step=row.step, draft=draft)

    def open_draft(self, telegram_id: int, draft_enc: bytes) -> dict[str, Any]:
        draft: dict[str, Any] = self._open_json(draft_enc, _context(telegram_id))  # save() stores only dicts
        return draft

    async def save(self, state: ConversationState, now: datetime) -> None:
        """Create or replace the person's state. The draft must be JSON-serialisable."""
        require_aware("now", now)
        if not isinstance(state.draft, dict):
            raise TypeError(f"draft: must be a dict, got {type(state.draft).__name__}")
        try:
            draft_enc = self._seal_json(state.draft, _context(state.telegram_id))
        except (TypeError, ValueError) as error:
            # json's message names only the offending type, never the value.
            raise ValueError(f"draft: must be JSON-serialisable ({error})") from None
        statement = self._upsert_insert(_states).values(
            telegram_id=state.telegram_id,
            flow=state.flow,
            step=state.step,
            draft_enc=draft_enc,
            updated_at=now,
        )
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[_states.c.telegram_id],
            set_={
                "flow": excluded.flow,
                "step": excluded.step,
                "draft_enc": excluded.draft_enc,
                "updated_at": excluded.updated_at,
            },
        )
        await self._session.execute(statement)

    async def clear(self, telegram_id: int) -> bool:
        """Forget the state; False if there was none."""
        return (await self._session.execute(_CLEAR, {"telegram_id": telegram_id})).first() is not None
