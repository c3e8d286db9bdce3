"""Consents: each acceptance of a privacy-notice version, erased with its user (ON DELETE CASCADE)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


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
