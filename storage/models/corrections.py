"""Correction requests (纠错) and complaints (投诉、检举), with the messages relayed on a complaint.

Every row is about the person who filed it and goes with them (erasure and /mydata read the
declarations below). What they wrote is sealed; the reporter of a complaint is a surrogate id that
only the repository's own reporter-side reads ever turn into a person.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class CorrectionRequestRow(Base):
    """A person disputes their code: what is wrong, why, maybe a photo; a reviewer's outcome."""

    __tablename__ = "correction_requests"
    __table_args__ = (Index("ix_correction_requests_state_filed_at", "state", "filed_at"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    # The person's region when they filed: which reviewers' scope the request lands in.
    region_code: Mapped[str] = mapped_column(String(6), info=personal(Personal.CONTENT))
    disputed: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    day: Mapped[date | None] = mapped_column(Date, nullable=True, info=personal(Personal.CONTENT))
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    # Telegram's id of the evidence photo (never the picture itself), sealed like the reason.
    evidence_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, info=personal(Personal.SEALED))
    state: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    reviewer: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    # "declaration:<answer>" or "decision:<colour>:<days>" once accepted; none while open or rejected.
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True, info=personal(Personal.CONTENT))
    answer_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, info=personal(Personal.SEALED))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True,
                                                        info=personal(Personal.CONTENT))
    # When the deadline job reminded the first level, and sent it a level up: each happens once.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.ROW))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.ROW))


class ComplaintRow(Base):
    """A complaint or report; the case number is its id."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    reporter_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, info=personal(Personal.CONTENT))
    category: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    organisation_id: Mapped[int | None] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True, index=True,
        info=personal(Personal.CONTENT),
    )
    region_code: Mapped[str] = mapped_column(String(6), index=True, info=personal(Personal.CONTENT))
    text_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    state: Mapped[str] = mapped_column(String(16), index=True, info=personal(Personal.CONTENT))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    handler: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True,
                                                       info=personal(Personal.CONTENT))


class ComplaintMessageRow(Base):
    """One message relayed on a case, either way: from a reviewer to the reporter, or back."""

    __tablename__ = "complaint_messages"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    complaint_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("complaints.id", ondelete="CASCADE"), index=True, info=personal(Personal.ROW)
    )
    reporter_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    from_reporter: Mapped[bool] = mapped_column(Boolean, info=personal(Personal.CONTENT))
    reviewer: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    text_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
