"""The bot's outgoing Telegram rate, shared by its processes: one row per sending process.

Process bookkeeping only: no personal data. See bot/rate_share.py for the protocol.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime
from storage.models.personal import holds_no_personal_data


class SenderShareRow(Base):
    """One process's part of the bot's rate, as of its last renewal (times are the database's clock).

    ``share`` is what it may admit per second until ``valid_until``; ``holds`` bounds what it may still
    have counted against the rate (its share, or more while requests admitted under a larger share
    drain); the others are granted only what the live rows do not hold. ``paused_until`` is the end of
    a 429 pause this process saw, for the others to honour too.
    """

    __tablename__ = "sender_shares"
    __table_args__ = holds_no_personal_data("which bot process may send how much, for a few seconds")

    process_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    share: Mapped[int] = mapped_column(Integer)
    holds: Mapped[int] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
