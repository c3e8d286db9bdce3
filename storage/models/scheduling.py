"""Timed jobs: when each is next due, who holds its lease, and one row per run.

Job bookkeeping only: no personal data.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import holds_no_personal_data


class ScheduledJobRow(Base):
    """One timed job: when it is next due, and which process holds it while it runs.

    ``spec`` is the schedule as written in code; a start-up that finds a different spec
    recomputes ``next_due_at``. ``lease_owner``/``lease_until`` are set while a process runs the
    job; a lease that ran out without being released means that process died mid-run.
    """

    __tablename__ = "scheduled_jobs"
    __table_args__ = holds_no_personal_data("job schedules and leases")

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[str] = mapped_column(String(128))
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRunRow(Base):
    """One execution of a job for one due time; the unique pair makes a second run impossible."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_name", "due_at"), holds_no_personal_data("one run of a job"))

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    job_name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    owner: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    state: Mapped[str] = mapped_column(String(16))  # running | done | failed
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
