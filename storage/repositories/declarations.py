"""Daily declarations; the answers are sealed and bound to their user and day.

The only repository that opens them: the export and the statistics read them through here."""
from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import date, datetime
from typing import cast

from sqlalchemy import ColumnElement, Executable, Exists, ScalarSelect, Select, bindparam, exists, func, select

from rules.model import Answers, Declaration
from storage.models import DeclarationRow, UserRow
from storage.records import StoredDeclaration
from storage.repositories.base import Repository, require_aware, table_of

_declarations = table_of(DeclarationRow)
_users = table_of(UserRow)  # only its clear region code, for a scope
_BETWEEN = (
    select(_declarations.c.day, _declarations.c.answers_enc)
    .where(
        _declarations.c.user_id == bindparam("user_id"),
        _declarations.c.day >= bindparam("first_day"),
        _declarations.c.day <= bindparam("last_day"),
    )
    .order_by(_declarations.c.day)
)


def _context(user_id: int, day: date) -> bytes:
    # Binding to the day stops a sealed "healthy" answer being replayed onto another day.
    return f"declarations.answers:{user_id}:{day.isoformat()}".encode()


class DeclarationRepository(Repository):
    # --- what other repositories' statements ask of declarations, composed into one statement -----
    # (Other repositories never name the declarations table: they embed these, so an operation keeps
    # its one statement. At most one declaration per person and day: upsert keeps it so.)

    @staticmethod
    def declared_on(day: date) -> Select[tuple[int]]:
        """The user ids with a declaration for ``day``."""
        return select(_declarations.c.user_id).where(_declarations.c.day == day)

    @staticmethod
    def declarations_on(day: date) -> Select[tuple[int, int]]:
        """``day``'s declarations as (id, user_id), for counting them."""
        return select(_declarations.c.id, _declarations.c.user_id).where(_declarations.c.day == day)

    @staticmethod
    def has_declared_on(user_id: ColumnElement[int], day: date) -> Exists:
        """EXISTS: the person in ``user_id`` (a column of the enclosing statement) declared for ``day``."""
        return exists().where(_declarations.c.user_id == user_id, _declarations.c.day == day)

    @staticmethod
    def last_day_of(user_id: ColumnElement[int]) -> ScalarSelect[date]:
        """The last day declared by the person in ``user_id`` (a column of the enclosing statement)."""
        return (
            select(func.max(_declarations.c.day))
            .where(_declarations.c.user_id == user_id)
            .correlate_except(_declarations)
            .scalar_subquery()
        )

    async def upsert(self, user_id: int, day: date, answers: Answers, now: datetime, *, by_proxy: bool = False) -> bool:
        """Store the answers for ``day`` (``by_proxy``: a guardian declared them); True if they replaced
        earlier answers for that day."""
        require_aware("now", now)
        answers_enc = self._seal_json(answers.to_json(), _context(user_id, day))
        values = {"user_id": user_id, "day": day, "answers_enc": answers_enc, "by_proxy": by_proxy,
                  "created_at": now, "updated_at": now}
        # One round trip on both databases: the returned revision tells insert from replace.
        statement = self._prebuilt("upsert", self._build_upsert)
        revision = cast(int, (await self._session.execute(statement, values)).scalar_one())
        return revision > 1

    def _build_upsert(self) -> Executable:
        statement = self._upsert_insert(_declarations)
        return statement.on_conflict_do_update(
            index_elements=[_declarations.c.user_id, _declarations.c.day],
            set_={
                "answers_enc": statement.excluded.answers_enc,
                "updated_at": statement.excluded.updated_at,
                "by_proxy": statement.excluded.by_proxy,
                "revision": _declarations.c.revision + 1,
            },
        ).returning(_declarations.c.revision)

    async def list_between(self, user_id: int, first_day: date, last_day: date) -> list[Declaration]:
        """Declarations with ``first_day <= day <= last_day``, oldest first."""
        if first_day > last_day:
            raise ValueError("first_day: must not be after last_day")
        rows = (await self._session.execute(_BETWEEN, {"user_id": user_id, "first_day": first_day,
                                                        "last_day": last_day})).all()
        return [
            Declaration(
                day=row.day,
                answers=Answers.from_json(self._open_json(row.answers_enc, _context(user_id, row.day))),
            )
            for row in rows
        ]

    async def last_day(self, user_id: int) -> date | None:
        query = select(func.max(_declarations.c.day)).where(_declarations.c.user_id == user_id)
        return cast("date | None", (await self._session.execute(query)).scalar_one())

    async def stored_for(self, user_id: int) -> list[StoredDeclaration]:
        """Every declaration of the user, oldest first, with its revision and timestamps (for /mydata)."""
        query = select(_declarations).where(_declarations.c.user_id == user_id).order_by(_declarations.c.day)
        return [
            StoredDeclaration(
                day=row.day,
                answers=Answers.from_json(self._open_json(row.answers_enc, _context(user_id, row.day))),
                revision=row.revision,
                created_at=row.created_at,
                updated_at=row.updated_at,
                by_proxy=bool(row.by_proxy),
            )
            for row in (await self._session.execute(query)).all()
        ]

    async def histories(self, last_day: date, *, batch: int = 1000,
                        within: Collection[str] | None = None) -> AsyncIterator[tuple[int, list[Declaration]]]:
        """Each user's declarations up to ``last_day``, one user at a time, fetched in batches; only users
        registered in one of the region codes ``within`` when given (kept in clear: a plain IN)."""
        query = (
            select(_declarations.c.user_id, _declarations.c.day, _declarations.c.answers_enc)
            .where(_declarations.c.day <= last_day)
            .order_by(_declarations.c.user_id, _declarations.c.day)
            .execution_options(yield_per=batch)
        )
        if within is not None:
            in_scope = select(_users.c.id).where(_users.c.region_code.in_(sorted(within)))
            query = query.where(_declarations.c.user_id.in_(in_scope))
        current: int | None = None
        history: list[Declaration] = []
        result = await self._session.stream(query)
        async for row in result:
            if row.user_id != current:
                if current is not None:
                    yield current, history
                current, history = row.user_id, []
            answers = Answers.from_json(self._open_json(row.answers_enc, _context(row.user_id, row.day)))
            history.append(Declaration(row.day, answers))
        if current is not None:
            yield current, history

