"""What only the tests read, straight from the tables: the product keeps no repository method for it.

Each helper runs inside the caller's unit of work (its session), like a repository would.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from storage.models import AccessLogRow, AuditRow
from storage.records import AuditEntry
from storage.unit_of_work import UnitOfWork


async def count_rows(uow: UnitOfWork, model: Any, *where: Any) -> int:
    query = select(func.count()).select_from(model.__table__)
    if where:
        query = query.where(*where)
    return (await uow._session.execute(query)).scalar_one()


async def access_log_count(uow: UnitOfWork, organisation_id: int, what: str | None = None) -> int:
    """How many reads of members' data the access log holds for one organisation (of one kind)."""
    conditions = [AccessLogRow.organisation_id == organisation_id]
    if what is not None:
        conditions.append(AccessLogRow.what == what)
    return await count_rows(uow, AccessLogRow, *conditions)


async def audit_entries(uow: UnitOfWork, *, limit: int = 100, action: str | None = None,
                        actor: int | None = None) -> list[AuditEntry]:
    """The audit log, newest first."""
    audit = AuditRow.__table__
    query = select(audit).order_by(audit.c.id.desc()).limit(limit)
    if action is not None:
        query = query.where(audit.c.action == action)
    if actor is not None:
        query = query.where(audit.c.actor_telegram_id == actor)
    rows = (await uow._session.execute(query)).all()
    return [AuditEntry(r.id, r.at, r.actor_telegram_id, r.action, r.target, json.loads(r.detail)) for r in rows]
