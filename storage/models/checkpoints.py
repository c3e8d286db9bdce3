"""Checkpoint tables: named checkpoints, the staff appointed to them and their invites, the scans a
staff member made, and the temperatures measured.

A checkpoint belongs to an organisation (appointed by its managers) or to a region (appointed by a
health authority whose scope covers it). A reading is only accepted against a scan of the same person
by the same staff member a few minutes earlier (``checkpoint_scans``); the scan is also what the
person sees as a read in their access log.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class CheckpointRow(Base):
    __tablename__ = "checkpoints"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    # Exactly one of the two: the organisation it belongs to, or the region (a health authority's).
    organisation_id: Mapped[int | None] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    region_code: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckpointStaffRow(Base):
    """An appointment: this Telegram account scans and measures at this checkpoint until revoked
    (revoking deletes the row; the audit log keeps who appointed and revoked whom)."""

    __tablename__ = "checkpoint_staff"
    __table_args__ = (UniqueConstraint("checkpoint_id", "telegram_id"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    checkpoint_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("checkpoints.id", ondelete="CASCADE"), info=personal(Personal.CONTENT)
    )
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True, info=personal(Personal.TELEGRAM))
    added_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class CheckpointInviteRow(Base):
    """A single-use, expiring code that makes whoever redeems it staff of the checkpoint."""

    __tablename__ = "checkpoint_invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(SurrogateId, ForeignKey("checkpoints.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckpointScanRow(Base):
    """A valid code of this person scanned by this staff member: a read (colour, validity, masked
    name) in the person's access log, and what a reading must refer to. ``ref`` is the random,
    short-lived reference the reading button carries instead of anything about the person."""

    __tablename__ = "checkpoint_scans"
    __table_args__ = (Index("ix_checkpoint_scans_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    ref: Mapped[str] = mapped_column(String(16), unique=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    checkpoint_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("checkpoints.id", ondelete="CASCADE"), info=personal(Personal.CONTENT)
    )
    staff_telegram_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, info=personal(Personal.CONTENT))


class CheckpointReadingRow(Base):
    """A temperature measured at a checkpoint: health data, so sealed; an input of the person's code."""

    __tablename__ = "checkpoint_readings"
    __table_args__ = (Index("ix_checkpoint_readings_user_id_day", "user_id", "day"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    checkpoint_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("checkpoints.id", ondelete="CASCADE"), info=personal(Personal.CONTENT)
    )
    staff_telegram_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    temperature_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    day: Mapped[date] = mapped_column(Date, info=personal(Personal.CONTENT))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, info=personal(Personal.CONTENT))
