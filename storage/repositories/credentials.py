"""Credentials this server issued, for reuse, supersession and revocation lists.

Credentials of erased users live on, without their holder, in ``withdrawn_credentials`` (see
``storage.repositories.withdrawn``) until they expire; every lookup here answers for them too, as
revoked, so that a screenshot of an erased person's code never verifies again."""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, Table, bindparam, func, or_, select, true, update

from rules.model import Colour
from storage.models import CredentialRow, WithdrawnCredentialRow
from storage.records import CARD, PAPER, CredentialRecord, CredentialStanding
from storage.repositories.base import Repository, RowsSelect, require_aware, table_of

_credentials = table_of(CredentialRow)
_withdrawn = table_of(WithdrawnCredentialRow)
FORGOTTEN_USER_ID = 0  # credentials of an erased user belong to nobody



def _live(now: Any) -> list[ColumnElement[bool]]:
    """Neither superseded, revoked nor expired at ``now`` (a value or a bound parameter)."""
    return [
        _credentials.c.superseded_at.is_(None),
        _credentials.c.revoked_at.is_(None),
        _credentials.c.expires_at > now,
    ]


def _withdrawn_queries(
    columns: Callable[[Table], Sequence[ColumnElement[Any]]], since: datetime | None, now: datetime
) -> tuple[RowsSelect, RowsSelect]:
    """Our withdrawn credentials, and erased users' ones, withdrawn at or after ``since`` (None:
    ever) and unexpired at ``now``: ``columns(table)`` says what to select from each."""
    if since is None:
        own_withdrawn = or_(_credentials.c.revoked_at.is_not(None), _credentials.c.superseded_at.is_not(None))
        erased_since: ColumnElement[bool] = true()
    else:
        own_withdrawn = or_(_credentials.c.revoked_at >= since, _credentials.c.superseded_at >= since)
        erased_since = _withdrawn.c.withdrawn_at >= since
    own = select(*columns(_credentials)).where(own_withdrawn, _credentials.c.expires_at > now)
    erased = select(*columns(_withdrawn)).where(erased_since, _withdrawn.c.expires_at > now)
    return own, erased


# Built once: checkpoints verify in bursts, and constructing a statement costs more than running it.
_STANDINGS = (
    select(
        _credentials.c.cti,
        _credentials.c.user_id,
        _credentials.c.superseded_at,
        _credentials.c.revoked_at,
    )
    .where(_credentials.c.cti.in_(bindparam("ctis", expanding=True)))
)
_CURRENT = (
    select(_credentials)
    .where(
        _credentials.c.user_id == bindparam("user_id"),
        _credentials.c.status_key == bindparam("status_key"),
        _credentials.c.kind == CARD,  # a paper code is never reused as the chat card
        *_live(bindparam("now")),
    )
    .order_by(_credentials.c.issued_at.desc())
    .limit(1)
)
_SET_FILE_ID = (
    update(_credentials)
    .where(_credentials.c.cti == bindparam("credential_id"))  # not "cti": UPDATE reserves column names
    .values(telegram_file_id=bindparam("file_id"))
    .returning(_credentials.c.cti)
)
_WITHDRAWN = select(_withdrawn.c.cti).where(_withdrawn.c.cti.in_(bindparam("ctis", expanding=True)))


def _record(row: Row[Any]) -> CredentialRecord:
    return CredentialRecord(
        cti=row.cti,
        user_id=row.user_id,
        kid=row.kid,
        colour=Colour(row.colour),
        status_key=row.status_key,
        token=row.token,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        superseded_at=row.superseded_at,
        revoked_at=row.revoked_at,
        telegram_file_id=row.telegram_file_id,
        kind=row.kind,
    )


class CredentialRepository(Repository):
    async def find_current(self, user_id: int, status_key: str, now: datetime) -> CredentialRecord | None:
        """The newest credential for this status that is neither superseded, revoked nor expired."""
        require_aware("now", now)
        parameters = {"user_id": user_id, "status_key": status_key, "now": now}
        row = (await self._session.execute(_CURRENT, parameters)).first()
        return None if row is None else _record(row)

    async def add(self, record: CredentialRecord) -> None:
        for field in ("issued_at", "expires_at", "superseded_at", "revoked_at"):
            require_aware(f"credential.{field}", getattr(record, field))
        await self._session.execute(
            _credentials.insert().values(
                cti=record.cti,
                user_id=record.user_id,
                kid=record.kid,
                colour=record.colour.value,
                status_key=record.status_key,
                token=record.token,
                issued_at=record.issued_at,
                expires_at=record.expires_at,
                superseded_at=record.superseded_at,
                revoked_at=record.revoked_at,
                telegram_file_id=record.telegram_file_id,
                kind=record.kind,
            )
        )

    async def supersede_others(self, user_id: int, keep_cti: str, now: datetime, *,
                               colour: Colour | None = None) -> int:
        """A chat card ``keep_cti`` was issued: mark the user's other live cards superseded at ``now``,
        and, given the card's ``colour``, the paper codes of another colour (the person's status
        changed since they were printed). Paper codes of the same colour live on. How many."""
        require_aware("now", now)
        withdrawn: ColumnElement[bool] = _credentials.c.kind == CARD
        if colour is not None:
            withdrawn = or_(withdrawn, _credentials.c.colour != colour.value)
        statement = (
            update(_credentials)
            .where(_credentials.c.user_id == user_id, _credentials.c.cti != keep_cti, withdrawn, *_live(now))
            .values(superseded_at=now)
            .returning(_credentials.c.cti)
        )
        return len((await self._session.execute(statement)).all())

    async def supersede_other_papers(self, user_id: int, keep_cti: str, now: datetime) -> int:
        """A paper code ``keep_cti`` was printed: the user's earlier live paper codes are superseded
        at ``now`` (the chat card is not). How many."""
        require_aware("now", now)
        statement = (
            update(_credentials)
            .where(_credentials.c.user_id == user_id, _credentials.c.cti != keep_cti, _credentials.c.kind == PAPER,
                   *_live(now))
            .values(superseded_at=now)
            .returning(_credentials.c.cti)
        )
        return len((await self._session.execute(statement)).all())

    async def set_file_id(self, cti: str, file_id: str) -> bool:
        """Remember Telegram's file id for the card image; False if the credential is unknown."""
        return (await self._session.execute(_SET_FILE_ID, {"credential_id": cti, "file_id": file_id})).first() is not None

    async def issued_to(self, user_id: int) -> list[CredentialRecord]:
        """Every credential the user holds, withdrawn ones included, oldest first (for /mydata)."""
        query = select(_credentials).where(_credentials.c.user_id == user_id).order_by(_credentials.c.issued_at)
        return [_record(row) for row in (await self._session.execute(query)).all()]

    async def get(self, cti: str) -> CredentialRecord | None:
        row = (await self._session.execute(select(_credentials).where(_credentials.c.cti == cti))).first()
        if row is not None:
            return _record(row)
        row = (await self._session.execute(select(_withdrawn).where(_withdrawn.c.cti == cti))).first()
        if row is None:
            return None
        return CredentialRecord(
            cti=row.cti, user_id=FORGOTTEN_USER_ID, kid=row.kid, colour=Colour(row.colour), status_key="",
            token="", issued_at=row.withdrawn_at, expires_at=row.expires_at, revoked_at=row.withdrawn_at,
        )

    async def standings(self, ctis: Collection[str]) -> dict[str, CredentialStanding]:
        """The standing of each of these credentials that we issued, in one query (unknown ones are absent)."""
        if not ctis:
            return {}
        rows = (await self._session.execute(_STANDINGS, {"ctis": list(ctis)})).all()
        standings = {
            row.cti: CredentialStanding(
                cti=row.cti,
                user_id=row.user_id,
                superseded=row.superseded_at is not None,
                revoked=row.revoked_at is not None,
            )
            for row in rows
        }
        unknown = [cti for cti in ctis if cti not in standings]
        if unknown:
            for cti in (await self._session.execute(_WITHDRAWN, {"ctis": unknown})).scalars():
                standings[cti] = CredentialStanding(cti, FORGOTTEN_USER_ID, superseded=False, revoked=True)
        return standings

    async def count_withdrawn(self, now: datetime) -> int:
        """How many credentials :meth:`withdrawn_since` with ``since=None`` would return (at most)."""
        require_aware("now", now)
        own, erased = _withdrawn_queries(lambda table: [func.count()], None, now)
        # COUNT(*) comes back as an int; the untyped Core statement cannot say so.
        own_count = cast(int, (await self._session.execute(own)).scalar_one())
        return own_count + cast(int, (await self._session.execute(erased)).scalar_one())

    async def withdrawn_since(self, since: datetime | None, now: datetime) -> list[tuple[str, datetime]]:
        """(cti, expires_at) of the credentials revoked, superseded or erased at or after ``since``
        (None: every withdrawn credential that verifiers could still accept), soonest expiry first."""
        require_aware("now", now)
        require_aware("since", since)
        own, erased = _withdrawn_queries(lambda table: [table.c.cti, table.c.expires_at], since, now)
        rows = [*(await self._session.execute(own)).all(), *(await self._session.execute(erased)).all()]
        return sorted({(row.cti, row.expires_at) for row in rows}, key=lambda item: (item[1], item[0]))
