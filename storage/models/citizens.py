"""Citizen tables: users, preferences, conversation state, declarations, statuses, credentials.

Columns ending in ``_enc`` hold FieldCipher blobs; columns ending in ``_hash`` hold blind
indexes. Nothing personal is stored in clear.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    subject_id: Mapped[str] = mapped_column(String(32), unique=True)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    resident_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    resident_id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    region_code: Mapped[str] = mapped_column(String(16))
    consent_version: Mapped[str] = mapped_column(String(32))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Preference(Base):
    """Keyed by Telegram id, not user, because language is chosen before registering."""

    __tablename__ = "preferences"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationStateRow(Base):
    __tablename__ = "conversation_states"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    draft_enc: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeclarationRow(Base):
    __tablename__ = "declarations"
    # The unique constraint's index on (user_id, day) also serves every range
    # query by user and day; a second identical index would only slow writes.
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(SurrogateId, ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # 1 when first declared, +1 each time that day's answers are replaced.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusRow(Base):
    __tablename__ = "statuses"

    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    colour: Mapped[str] = mapped_column(String(16), index=True)
    reason_code: Mapped[str] = mapped_column(String(64))
    since: Mapped[date] = mapped_column(Date)
    green_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    evaluated_for: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The policy the status was evaluated under; NULL only for rows stored before migration 0005.
    policy_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    policy_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class CredentialRow(Base):
    __tablename__ = "credentials"

    cti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kid: Mapped[str] = mapped_column(String(64))
    colour: Mapped[str] = mapped_column(String(16))
    status_key: Mapped[str] = mapped_column(String(128))
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # Indexed: verifiers read what was withdrawn since they last looked (see storage migration 0004).
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    telegram_file_id: Mapped[str | None] = mapped_column(String(256), nullable=True)


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())
