"""Tables for time and data rights: schedules and job runs, consents, reminders, status notices,
daily aggregate counts, and credentials withdrawn when their holder was erased.

Only ``consents``, ``reminder_settings`` and ``status_notices`` point at a person, always through
``users.id`` with ON DELETE CASCADE, so erasing a user erases them too. The others hold no
personal data: job bookkeeping, anonymous counts, and random credential ids.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, holds_no_personal_data, personal


class ScheduledJob(Base):
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


class JobRun(Base):
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


class ConsentRow(Base):
    """Each acceptance of a privacy-notice version (registration's is copied in on the first renewal)."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "version"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    version: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class ReminderSetting(Base):
    """A user's reminder choice; no row means "on, at the configured default time".

    ``remind_at`` is a zero-padded local "HH:MM" (so it compares correctly as text) or NULL for
    the default. ``last_reminded_on`` is the local day of the last reminder, so each day's
    reminder is created once; ``last_batch`` is the random id of the run that created it.
    """

    __tablename__ = "reminder_settings"

    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False,
        info=personal(Personal.USER),
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), info=personal(Personal.CONTENT))
    remind_at: Mapped[str | None] = mapped_column(String(5), nullable=True, info=personal(Personal.CONTENT))
    last_reminded_on: Mapped[date | None] = mapped_column(Date, nullable=True, info=personal(Personal.ROW))
    last_batch: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True, info=personal(Personal.ROW))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))


class StatusNotice(Base):
    """A change the day-change job found (recovered, missed day, decision lifted …), to be sent.

    ``campaign_id`` is set when the notice was handed to bulk delivery, in the same transaction,
    so a re-run of the job never hands it over twice.
    """

    __tablename__ = "status_notices"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    day: Mapped[date] = mapped_column(Date, index=True, info=personal(Personal.CONTENT))
    kind: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    days_left: Mapped[int | None] = mapped_column(Integer, nullable=True, info=personal(Personal.CONTENT))
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True, info=personal(Personal.ROW))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class DailyCount(Base):
    """Anonymous counts for one local day and region: how many codes of a colour, how many declared.

    Kept for statistics after personal data is gone (retention, /forget, purge --all).
    """

    __tablename__ = "daily_counts"
    __table_args__ = holds_no_personal_data("anonymous counts per day, region and colour")

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    colour: Mapped[str] = mapped_column(String(16), primary_key=True)
    codes: Mapped[int] = mapped_column(Integer)
    declared: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WithdrawnCredential(Base):
    """A credential revoked when its holder's data was erased: the random id outlives the user row
    so checkpoints and the revocation list keep refusing it until it expires."""

    __tablename__ = "withdrawn_credentials"
    # The random ids outlive the holder on purpose: nothing here leads back to them.
    __table_args__ = holds_no_personal_data("random ids of credentials withdrawn at erasure, until they expire")

    cti: Mapped[str] = mapped_column(String(64), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64))
    colour: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
