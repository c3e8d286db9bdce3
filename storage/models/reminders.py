"""Reminder settings: each user's daily reminder choice, erased with its user (ON DELETE CASCADE)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class ReminderSettingRow(Base):
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
