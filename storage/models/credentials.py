"""Credentials: the ones this server issued, and the random ids of those withdrawn when their holder
was erased (kept, without any link to a person, so verifiers refuse them until they expire)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, holds_no_personal_data, personal


class CredentialRow(Base):
    __tablename__ = "credentials"

    cti: Mapped[str] = mapped_column(String(64), primary_key=True, info=personal(Personal.CONTENT))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    kid: Mapped[str] = mapped_column(String(64), info=personal(Personal.CONTENT))
    colour: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    status_key: Mapped[str] = mapped_column(String(128), info=personal(Personal.ROW))
    token: Mapped[str] = mapped_column(Text, info=personal(Personal.CONTENT))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, info=personal(Personal.CONTENT))
    # Indexed: verifiers read what was withdrawn since they last looked (see storage migration 0004).
    superseded_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True, info=personal(Personal.CONTENT)
    )
    revoked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True, info=personal(Personal.CONTENT)
    )
    telegram_file_id: Mapped[str | None] = mapped_column(String(256), nullable=True, info=personal(Personal.ROW))
    # "card" (the chat card, for one status and day) or "paper" (/print: lives HEALTHCODE_PAPER_DAYS).
    kind: Mapped[str] = mapped_column(String(8), default="card", server_default="card",
                                      info=personal(Personal.CONTENT))


class WithdrawnCredentialRow(Base):
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
