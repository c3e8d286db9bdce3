"""Complaints and reports: filing, the reviewers' inbox, the relayed messages, counts per organisation.

The reviewers' reads (``case``, ``inbox``, ``messages``) hand out ``ComplaintCase`` records, which
carry no reporter; only ``reporter_of`` names the person, for relaying a reply to them and for
showing a non-anonymous reporter's masked name.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, func, select, update

from rules.corrections import CaseState, ComplaintCategory
from storage.models import ComplaintMessageRow, ComplaintRow, OrganisationRow
from storage.records import ComplaintCase, ComplaintMessage, OrganisationReports
from storage.repositories.base import Repository, require_aware, table_of
from storage.repositories.organisations import in_regions as organisations_in_regions

_complaints = table_of(ComplaintRow)
_messages = table_of(ComplaintMessageRow)
_organisations = table_of(OrganisationRow)
_OPEN = (CaseState.OPEN.value, CaseState.IN_PROGRESS.value)


def _text_context(reporter_id: int, complaint_id: int | None = None) -> bytes:
    return f"complaints.text:{reporter_id}".encode() if complaint_id is None else \
        f"complaint_messages.text:{reporter_id}:{complaint_id}".encode()


_CASES = (
    select(_complaints, _organisations.c.name.label("organisation_name"))
    .outerjoin(_organisations, _organisations.c.id == _complaints.c.organisation_id)
)


class ComplaintRepository(Repository):
    async def file(self, reporter_id: int, category: ComplaintCategory, organisation_id: int | None,
                   region_code: str, text: str, anonymous: bool, now: datetime) -> int:
        """The new case's number."""
        require_aware("now", now)
        statement = (
            _complaints.insert()
            .values(reporter_id=reporter_id, anonymous=anonymous, category=category.value,
                    organisation_id=organisation_id, region_code=region_code,
                    text_enc=self._cipher.seal(text.encode(), _text_context(reporter_id)),
                    state=CaseState.OPEN.value, filed_at=now)
            .returning(_complaints.c.id)
        )
        return cast(int, (await self._session.execute(statement)).scalar_one())

    async def case(self, complaint_id: int) -> ComplaintCase | None:
        row = (await self._session.execute(_CASES.where(_complaints.c.id == complaint_id))).first()
        return None if row is None else self._case(row)

    async def inbox(self, *, limit: int = 200) -> list[ComplaintCase]:
        """Open and in-progress cases, oldest first (the caller keeps to its scope)."""
        query = _CASES.where(_complaints.c.state.in_(_OPEN)).order_by(_complaints.c.filed_at, _complaints.c.id)
        return [self._case(row) for row in (await self._session.execute(query.limit(limit))).all()]

    async def filed_by(self, reporter_id: int) -> list[ComplaintCase]:
        """The reporter's own cases, newest first."""
        query = _CASES.where(_complaints.c.reporter_id == reporter_id).order_by(_complaints.c.id.desc())
        return [self._case(row) for row in (await self._session.execute(query)).all()]

    async def reporter_of(self, complaint_id: int) -> int | None:
        """The reporter's user id: for relaying to them, never for showing an anonymous reporter."""
        query = select(_complaints.c.reporter_id).where(_complaints.c.id == complaint_id)
        return cast("int | None", (await self._session.execute(query)).scalar_one_or_none())

    async def move(self, complaint_id: int, wanted: CaseState, *, by: int, now: datetime) -> bool:
        """open → in progress → closed (``rules.corrections.may_move``); False when not allowed now."""
        require_aware("now", now)
        allowed_from = {CaseState.IN_PROGRESS: (CaseState.OPEN.value,),
                        CaseState.CLOSED: _OPEN}.get(wanted, ())
        values: dict[str, Any] = {"state": wanted.value, "handler": by}
        if wanted is CaseState.CLOSED:
            values["closed_at"] = now
        statement = (
            update(_complaints)
            .where(_complaints.c.id == complaint_id, _complaints.c.state.in_(allowed_from))
            .values(values)
            .returning(_complaints.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def add_message(self, complaint_id: int, *, from_reporter: bool, reviewer: int | None, text: str,
                          now: datetime) -> int:
        """The message's id."""
        require_aware("now", now)
        reporter_id = await self.reporter_of(complaint_id)
        if reporter_id is None:
            raise LookupError(f"complaint {complaint_id}: no such case")
        statement = _messages.insert().values(
            complaint_id=complaint_id, reporter_id=reporter_id, from_reporter=from_reporter, reviewer=reviewer,
            text_enc=self._cipher.seal(text.encode(), _text_context(reporter_id, complaint_id)), sent_at=now,
        ).returning(_messages.c.id)
        return cast(int, (await self._session.execute(statement)).scalar_one())

    async def messages(self, complaint_id: int) -> list[ComplaintMessage]:
        query = select(_messages).where(_messages.c.complaint_id == complaint_id).order_by(_messages.c.id)
        return [
            ComplaintMessage(row.id, row.complaint_id, row.from_reporter,
                             self._cipher.open(row.text_enc, _text_context(row.reporter_id, row.complaint_id)).decode(),
                             row.sent_at)
            for row in (await self._session.execute(query)).all()
        ]

    async def counts_by_organisation(self, within: Collection[str] | None = None) -> list[OrganisationReports]:
        """Cases naming each organisation (open or in progress, and closed), most first; only organisations
        registered in ``within``'s regions when given (an approving authority's scope)."""
        still_open = func.sum(case((_complaints.c.state.in_(_OPEN), 1), else_=0))
        closed = func.sum(case((_complaints.c.state == CaseState.CLOSED.value, 1), else_=0))
        query = (
            select(_organisations.c.id, _organisations.c.name, still_open.label("open"), closed.label("closed"))
            .join(_complaints, _complaints.c.organisation_id == _organisations.c.id)
            .group_by(_organisations.c.id, _organisations.c.name)
            .order_by(func.count().desc(), _organisations.c.id)
        )
        query = organisations_in_regions(query, within)
        return [OrganisationReports(row.id, row.name, int(row.open or 0), int(row.closed or 0))
                for row in (await self._session.execute(query)).all()]

    def _case(self, row: Any) -> ComplaintCase:
        return ComplaintCase(
            id=row.id, anonymous=row.anonymous, category=ComplaintCategory(row.category),
            organisation_id=row.organisation_id, organisation_name=row.organisation_name,
            region_code=row.region_code,
            text=self._cipher.open(row.text_enc, _text_context(row.reporter_id)).decode(),
            state=CaseState(row.state), filed_at=row.filed_at, handler=row.handler, closed_at=row.closed_at,
        )


__all__ = ["ComplaintRepository"]
