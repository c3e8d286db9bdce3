"""Bulk delivery: campaigns (one bulk send each), one delivery row per recipient, and attachments."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)  # JSON; never personal data
    audience_kind: Mapped[str] = mapped_column(String(16))
    audience_value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sending | done | cancelled
    rate: Mapped[float] = mapped_column(Float)
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))


class DeliveryRow(Base):
    """One recipient of one campaign.

    status: pending -> sending (claimed, lease running) -> sent | failed | blocked | skipped, or back
    to pending (429, transient error), or unconfirmed (the claimant died mid-send), or cancelled.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # One message per chat and subject: a guardian is told once for each dependant (on_behalf_of).
        UniqueConstraint("campaign_id", "telegram_id", "on_behalf_of"),
        Index("ix_deliveries_status_id", "status", "id"),  # the claim: oldest pending first
        Index("ix_deliveries_campaign_id_status", "campaign_id", "status"),  # progress counts
    )

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    campaign_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("campaigns.id", ondelete="CASCADE"), info=personal(Personal.ROW)
    )
    telegram_id: Mapped[int] = mapped_column(BigInteger, index=True, info=personal(Personal.TELEGRAM))
    # The dependant (a person id, rules.family.is_dependant_id) the message is about when it goes to
    # their guardian's chat ``telegram_id`` instead; 0 for a message about the recipient themself.
    on_behalf_of: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0",
                                              info=personal(Personal.TELEGRAM))
    status: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", info=personal(Personal.ROW))
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True, info=personal(Personal.ROW))
    claimed_by: Mapped[str | None] = mapped_column(String(32), nullable=True, info=personal(Personal.ROW))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.ROW))
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.ROW))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class CampaignAttachmentRow(Base):
    """A picture sent with a campaign: uploaded once, then re-sent by Telegram's file id."""

    __tablename__ = "campaign_attachments"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    filename: Mapped[str] = mapped_column(String(128))
    telegram_file_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
