"""Job schedules and job runs: the database side of ``bot.scheduler``.

Claiming a due job is a compare-and-set on ``next_due_at`` that also takes a lease, so of several
processes that see the same due job exactly one claims it. ``job_runs`` has one row per (job, due
time), a second guard against running one occurrence twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, delete, select, update

from storage.models import JobRunRow, ScheduledJobRow
from storage.records import JobRunRecord, JobSchedule
from storage.repositories.base import Repository, require_aware, rows_changed, table_of

_jobs = table_of(ScheduledJobRow)
_runs = table_of(JobRunRow)

RUNNING, DONE, FAILED = "running", "done", "failed"
_DETAIL_MAX = 200


def _schedule(row: Row[Any]) -> JobSchedule:
    return JobSchedule(row.name, row.spec, row.next_due_at, row.last_due_at, row.lease_owner, row.lease_until)


class ScheduleRepository(Repository):
    async def get(self, name: str) -> JobSchedule | None:
        row = (await self._session.execute(select(_jobs).where(_jobs.c.name == name))).first()
        return None if row is None else _schedule(row)

    async def all(self) -> list[JobSchedule]:
        rows = (await self._session.execute(select(_jobs).order_by(_jobs.c.next_due_at, _jobs.c.name))).all()
        return [_schedule(row) for row in rows]

    async def ensure(self, name: str, spec: str, next_due_at: datetime, now: datetime) -> JobSchedule:
        """Create the job's row unless it exists (a row that exists keeps its due time: catch-up)."""
        require_aware("next_due_at", next_due_at)
        require_aware("now", now)
        statement = (
            self._upsert_insert(_jobs)
            .values(name=name, spec=spec, next_due_at=next_due_at, updated_at=now)
            .on_conflict_do_nothing(index_elements=[_jobs.c.name])
        )
        await self._session.execute(statement)
        found = await self.get(name)
        assert found is not None  # just inserted or already there
        return found

    async def reschedule(self, name: str, spec: str, next_due_at: datetime, now: datetime) -> None:
        """Adopt a changed schedule (or repair a due time far in the future after the clock went back)."""
        require_aware("next_due_at", next_due_at)
        await self._session.execute(
            update(_jobs).where(_jobs.c.name == name).values(spec=spec, next_due_at=next_due_at, updated_at=now)
        )

    async def claim(self, name: str, due_at: datetime, next_due_at: datetime, owner: str,
                    lease_until: datetime, now: datetime) -> bool:
        """Take the occurrence due at ``due_at`` if nobody did: True for exactly one caller.

        The WHERE re-checks the due time and the free lease; a concurrent claimer on PostgreSQL
        waits for the row lock, re-reads the row, no longer matches and updates nothing.
        """
        for field, value in (("due_at", due_at), ("next_due_at", next_due_at), ("lease_until", lease_until)):
            require_aware(field, value)
        statement = (
            update(_jobs)
            .where(_jobs.c.name == name, _jobs.c.next_due_at == due_at, _jobs.c.lease_owner.is_(None))
            .values(next_due_at=next_due_at, last_due_at=due_at, lease_owner=owner, lease_until=lease_until,
                    updated_at=now)
            .returning(_jobs.c.name)
        )
        return (await self._session.execute(statement)).first() is not None

    async def reclaim(self, name: str, stale: JobSchedule, owner: str, lease_until: datetime, now: datetime) -> bool:
        """Take over a run whose process died (its lease ran out without being released)."""
        if stale.lease_owner is None or stale.lease_until is None:
            raise ValueError("stale: the schedule holds no lease to take over")
        statement = (
            update(_jobs)
            .where(_jobs.c.name == name, _jobs.c.lease_owner == stale.lease_owner,
                   _jobs.c.lease_until == stale.lease_until, _jobs.c.lease_until <= now)
            .values(lease_owner=owner, lease_until=lease_until, updated_at=now)
            .returning(_jobs.c.name)
        )
        return (await self._session.execute(statement)).first() is not None

    async def renew(self, name: str, owner: str, lease_until: datetime) -> bool:
        """Extend a held lease (the running job's heartbeat); False if the lease was lost."""
        statement = (
            update(_jobs)
            .where(_jobs.c.name == name, _jobs.c.lease_owner == owner)
            .values(lease_until=lease_until)
            .returning(_jobs.c.name)
        )
        return (await self._session.execute(statement)).first() is not None

    async def release(self, name: str, owner: str, now: datetime, *, retry_at: datetime | None = None) -> bool:
        """Give the lease back; ``retry_at`` brings the next due time forward after a failure."""
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "updated_at": now}
        condition = [_jobs.c.name == name, _jobs.c.lease_owner == owner]
        result = await self._session.execute(update(_jobs).where(*condition).values(values).returning(_jobs.c.name))
        released = result.first() is not None
        if released and retry_at is not None:
            await self._session.execute(
                update(_jobs).where(_jobs.c.name == name, _jobs.c.next_due_at > retry_at).values(next_due_at=retry_at)
            )
        return released

    async def start_run(self, name: str, due_at: datetime, owner: str, now: datetime) -> int:
        """Record that ``owner`` runs this occurrence; a taken-over run counts one more attempt."""
        statement = self._upsert_insert(_runs).values(
            job_name=name, due_at=due_at, owner=owner, attempt=1, state=RUNNING, started_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[_runs.c.job_name, _runs.c.due_at],
            set_={"owner": owner, "attempt": _runs.c.attempt + 1, "state": RUNNING, "started_at": now,
                  "finished_at": None, "detail": None},
        )
        return cast(int, (await self._session.execute(statement.returning(_runs.c.attempt))).scalar_one())

    async def finish_run(self, name: str, due_at: datetime, owner: str, state: str, now: datetime,
                         detail: str | None = None) -> None:
        if state not in (DONE, FAILED):
            raise ValueError(f"state: must be {DONE!r} or {FAILED!r}, got {state!r}")
        await self._session.execute(
            update(_runs)
            .where(_runs.c.job_name == name, _runs.c.due_at == due_at, _runs.c.owner == owner)
            .values(state=state, finished_at=now, detail=(detail or None) and detail[:_DETAIL_MAX])
        )

    async def runs(self, name: str | None = None) -> list[JobRunRecord]:
        query = select(_runs).order_by(_runs.c.due_at, _runs.c.id)
        if name is not None:
            query = query.where(_runs.c.job_name == name)
        return [
            JobRunRecord(r.job_name, r.due_at, r.owner, r.attempt, r.state, r.detail, r.started_at, r.finished_at)
            for r in (await self._session.execute(query)).all()
        ]

    async def delete_runs_before(self, before: datetime) -> int:
        require_aware("before", before)
        result = await self._session.execute(delete(_runs).where(_runs.c.started_at < before))
        return rows_changed(result) or 0
