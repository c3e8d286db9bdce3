"""Status notices (changes the day-change job found) and Mini App notices, to be sent; erased with their user
(ON DELETE CASCADE)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class StatusNoticeRow(Base):
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


class MiniAppNoticeRow(Base):
    """A declaration made in the Mini App whose card the chat has still to get: one row per person while
    it waits. The delivery worker hands the waiting rows to bulk delivery in bulk (one campaign per day
    declared, bot.services.miniapp.hand_over_notices) and deletes them in that same transaction, so the
    table holds only what waits. A second declaration while one waits is covered by the same notice
    (the card is drawn at send time); one after the hand-over queues a new row.

    ``batch`` marks the rows one hand-over took (random, set and cleared in its transaction): the
    recipients it inserts and the rows it deletes are exactly those, whatever was queued meanwhile.
    """

    __tablename__ = "miniapp_notices"

    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, info=personal(Personal.USER)
    )
    day: Mapped[date] = mapped_column(Date, info=personal(Personal.ROW))  # the day declared, for the notice's words
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))
    batch: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ROW))
