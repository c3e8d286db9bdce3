"""Correction requests: filing, the reviewer's steps, the deadline job's reads, the person's own list."""
from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import select, update

from rules.corrections import Disputed, RequestState
from storage.models import CorrectionRequestRow
from storage.records import CorrectionRequest
from storage.repositories.base import Repository, require_aware, table_of

_requests = table_of(CorrectionRequestRow)
_OPEN = (RequestState.SUBMITTED.value, RequestState.IN_REVIEW.value)


def _context(user_id: int, what: str) -> bytes:
    return f"correction_requests.{what}:{user_id}".encode()


class CorrectionRepository(Repository):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._known_without: set[int] = set()

    def note_none(self, user_id: int) -> None:
        """The sender's load found no request of this user (same transaction): latest_for needs no query.
        Every card shows the latest request's state, and almost nobody has one."""
        self._known_without.add(user_id)

    async def file(self, user_id: int, region_code: str, disputed: Disputed, day: date | None, reason: str,
                   evidence_file_id: str | None, now: datetime) -> CorrectionRequest:
        require_aware("now", now)
        evidence = None if evidence_file_id is None else self._cipher.seal(evidence_file_id.encode(),
                                                                           _context(user_id, "evidence"))
        statement = (
            _requests.insert()
            .values(user_id=user_id, region_code=region_code, disputed=disputed.value, day=day,
                    reason_enc=self._cipher.seal(reason.encode(), _context(user_id, "reason")),
                    evidence_enc=evidence, state=RequestState.SUBMITTED.value, filed_at=now)
            .returning(_requests.c.id)
        )
        request_id = cast(int, (await self._session.execute(statement)).scalar_one())
        self._known_without.discard(user_id)
        return CorrectionRequest(request_id, user_id, region_code, disputed, day, reason, evidence_file_id,
                                 RequestState.SUBMITTED, now)

    async def get(self, request_id: int) -> CorrectionRequest | None:
        row = (await self._session.execute(select(_requests).where(_requests.c.id == request_id))).first()
        return None if row is None else self._record(row)

    async def latest_for(self, user_id: int) -> CorrectionRequest | None:
        if user_id in self._known_without:
            return None
        query = select(_requests).where(_requests.c.user_id == user_id).order_by(_requests.c.id.desc()).limit(1)
        row = (await self._session.execute(query)).first()
        return None if row is None else self._record(row)

    async def for_user(self, user_id: int) -> list[CorrectionRequest]:
        """The person's requests, newest first."""
        query = select(_requests).where(_requests.c.user_id == user_id).order_by(_requests.c.id.desc())
        return [self._record(row) for row in (await self._session.execute(query)).all()]

    async def open_requests(self, *, filed_before: datetime | None = None, limit: int = 500) -> list[CorrectionRequest]:
        """Open requests, oldest first (``filed_before``: only those filed before it)."""
        query = select(_requests).where(_requests.c.state.in_(_OPEN)).order_by(_requests.c.filed_at, _requests.c.id)
        if filed_before is not None:
            require_aware("filed_before", filed_before)
            query = query.where(_requests.c.filed_at < filed_before)
        return [self._record(row) for row in (await self._session.execute(query.limit(limit))).all()]

    async def take(self, request_id: int, reviewer: int) -> bool:
        """Submitted → in review, by this reviewer; False when it is no longer submitted."""
        statement = (
            update(_requests)
            .where(_requests.c.id == request_id, _requests.c.state == RequestState.SUBMITTED.value)
            .values(state=RequestState.IN_REVIEW.value, reviewer=reviewer)
            .returning(_requests.c.id)
        )
        return (await self._session.execute(statement)).first() is not None

    async def decide(self, request_id: int, accepted: bool, *, reviewer: int, outcome: str | None, answer: str,
                     now: datetime) -> CorrectionRequest | None:
        """Close an open request; None when it was decided already (two reviewers at once)."""
        require_aware("now", now)
        current = await self.get(request_id)
        if current is None or not current.state.open:
            return None
        state = RequestState.ACCEPTED if accepted else RequestState.REJECTED
        statement = (
            update(_requests)
            .where(_requests.c.id == request_id, _requests.c.state.in_(_OPEN))
            .values(state=state.value, reviewer=reviewer, outcome=outcome, decided_at=now,
                    answer_enc=self._cipher.seal(answer.encode(), _context(current.user_id, "answer")))
            .returning(_requests.c.id)
        )
        if (await self._session.execute(statement)).first() is None:
            return None
        return await self.get(request_id)

    async def mark(self, request_ids: Collection[int], *, reminded: datetime | None = None,
                   escalated: datetime | None = None) -> None:
        """Record that the deadline job reminded, or escalated, these requests."""
        if not request_ids:
            return
        values: dict[str, Any] = {}
        if reminded is not None:
            values["reminded_at"] = reminded
        if escalated is not None:
            values["escalated_at"] = escalated
        await self._session.execute(update(_requests).where(_requests.c.id.in_(list(request_ids))).values(values))

    def _record(self, row: Any) -> CorrectionRequest:
        user_id = row.user_id
        evidence = None if row.evidence_enc is None else self._cipher.open(row.evidence_enc,
                                                                           _context(user_id, "evidence")).decode()
        answer = None if row.answer_enc is None else self._cipher.open(row.answer_enc,
                                                                       _context(user_id, "answer")).decode()
        return CorrectionRequest(
            id=row.id, user_id=user_id, region_code=row.region_code, disputed=Disputed(row.disputed), day=row.day,
            reason=self._cipher.open(row.reason_enc, _context(user_id, "reason")).decode(),
            evidence_file_id=evidence, state=RequestState(row.state), filed_at=row.filed_at, reviewer=row.reviewer,
            outcome=row.outcome, answer=answer, decided_at=row.decided_at, reminded_at=row.reminded_at,
            escalated_at=row.escalated_at,
        )


__all__ = ["CorrectionRepository"]
