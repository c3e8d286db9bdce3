"""The data key's check value: a wrong or missing key is refused before it can do harm.

With a wrong key every sealed field fails to open, and worse, blind indexes computed with it
match nothing, so an ID number already registered could be registered again.
"""
from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import exists, func, inspect, select

from storage.errors import DataKeyMismatch, DecryptionError
from storage.models import ConversationStateRow, DecisionRow, DeclarationRow, ResidentIdMaskRow, UserRow
from storage.models.key_check import KEY_CHECK_ROW_ID, DataKeyCheckRow
from storage.records import KeyCheck
from storage.repositories.base import Repository, require_aware, table_of
from storage.repositories.users import UserRepository

_checks = table_of(DataKeyCheckRow)
_users = table_of(UserRow)
# Every table with a column sealed or blind-indexed under the data key.
_KEYED_TABLES = tuple(table_of(model) for model in (UserRow, DeclarationRow, DecisionRow, ConversationStateRow,
                                                   ResidentIdMaskRow))


class DataKeyCheckRepository(Repository):
    async def recorded(self) -> bytes | None:
        """The stored check value; None on a database that has none yet (or predates its table)."""
        if _checks.name not in await self._table_names():
            return None
        query = select(_checks.c.check_value).where(_checks.c.id == KEY_CHECK_ROW_ID)
        return (await self._session.execute(query)).scalar_one_or_none()

    async def holds_keyed_data(self) -> bool:
        """True when a key check is recorded or any value sealed under the data key is stored."""
        if await self.recorded() is not None:
            return True
        present = await self._table_names()
        for table in _KEYED_TABLES:
            if table.name in present and await self._session.scalar(select(exists().select_from(table))):
                return True
        return False

    async def _table_names(self) -> set[str]:
        # `db backup` checks the key without migrating first, so a table may not exist yet.
        return set(await self._session.run_sync(lambda session: inspect(session.connection()).get_table_names()))

    async def verify(self, now: datetime, *, record: bool = True) -> KeyCheck:
        """Compare this cipher's check value with the stored one, recording it if there is none.

        With ``record`` False nothing is written: a database without a check value is only tested
        by opening one sealed value.

        Raises DataKeyMismatch when they differ. Two processes starting at once on an empty
        database both end up comparing against whichever value was written first.
        """
        require_aware("now", now)
        mine = self._cipher.key_check_value()
        stored = await self.recorded()
        outcome = KeyCheck.MATCHED
        if stored is None:
            outcome = KeyCheck.RECORDED_EXISTING if await self.holds_keyed_data() else KeyCheck.RECORDED_NEW
            if outcome is KeyCheck.RECORDED_EXISTING:
                await self._open_one_sealed_value()
            if not record:
                return KeyCheck.NOT_RECORDED
            await self._session.execute(
                self._upsert_insert(_checks)
                .values(id=KEY_CHECK_ROW_ID, check_value=mine, recorded_at=now)
                .on_conflict_do_nothing(index_elements=[_checks.c.id])
            )
            stored = await self.recorded()
        if stored is None or not hmac.compare_digest(stored, mine):
            raise DataKeyMismatch()
        return outcome

    async def _open_one_sealed_value(self) -> None:
        """A database from before the check: if it holds a person, their sealed name must open."""
        first = await self._session.scalar(select(func.min(_users.c.id)))
        if first is None:
            return
        try:
            await UserRepository(self._session, self._cipher, self._dialect).get(first)
        except DecryptionError:
            raise DataKeyMismatch() from None
