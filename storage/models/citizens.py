"""Citizen tables: users, preferences, conversation state, declarations, statuses.

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
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, holds_no_personal_data, personal


class UserRow(Base):
    """A citizen. ``telegram_id`` is their Telegram id, or for a dependant without an account a person id
    from a range Telegram never uses (negative; see ``storage.models.family`` and ``rules.family``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.USER))
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True, info=personal(Personal.TELEGRAM))
    subject_id: Mapped[str] = mapped_column(String(32), unique=True, info=personal(Personal.CONTENT))
    name_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    resident_id_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    resident_id_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, info=personal(Personal.BLIND_INDEX))
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    phone_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True, info=personal(Personal.BLIND_INDEX))
    region_code: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    consent_version: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), info=personal(Personal.CONTENT))


class PreferenceRow(Base):
    """Keyed by Telegram id, not user, because language is chosen before registering."""

    __tablename__ = "preferences"

    telegram_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, info=personal(Personal.TELEGRAM)
    )
    language: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))


class ConversationStateRow(Base):
    __tablename__ = "conversation_states"

    telegram_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, info=personal(Personal.TELEGRAM)
    )
    flow: Mapped[str] = mapped_column(String(64), info=personal(Personal.CONTENT))
    step: Mapped[str] = mapped_column(String(64), info=personal(Personal.CONTENT))
    draft_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))


class DeclarationRow(Base):
    __tablename__ = "declarations"
    # The unique constraint's index on (user_id, day) also serves every range
    # query by user and day; a second identical index would only slow writes.
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    day: Mapped[date] = mapped_column(Date, info=personal(Personal.CONTENT))
    answers_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    # 1 when first declared, +1 each time that day's answers are replaced.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1", info=personal(Personal.CONTENT))
    # Declared by a guardian for their dependant (storage.models.family), not by the person themselves.
    by_proxy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                           info=personal(Personal.CONTENT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class StatusRow(Base):
    __tablename__ = "statuses"

    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False,
        info=personal(Personal.USER),
    )
    colour: Mapped[str] = mapped_column(String(16), index=True, info=personal(Personal.CONTENT))
    reason_code: Mapped[str] = mapped_column(String(64), info=personal(Personal.CONTENT))
    since: Mapped[date] = mapped_column(Date, info=personal(Personal.CONTENT))
    green_on: Mapped[date | None] = mapped_column(Date, nullable=True, info=personal(Personal.CONTENT))
    evaluated_for: Mapped[date] = mapped_column(Date, info=personal(Personal.CONTENT))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    # The policy the status was evaluated under; NULL only for rows stored before the migration that added it.
    policy_version: Mapped[str | None] = mapped_column(String(64), nullable=True, info=personal(Personal.CONTENT))
    policy_name: Mapped[str | None] = mapped_column(String(200), nullable=True, info=personal(Personal.CONTENT))


class LastUpdateRow(Base):
    """The newest webhook update handled for an account. Deliveries race (Telegram's webhook
    connections, several bot processes): an update older than this one is not run after it."""
    __tablename__ = "last_updates"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False,
                                             info=personal(Personal.TELEGRAM))
    update_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ROW))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))


class ProcessedUpdateRow(Base):
    __tablename__ = "processed_updates"
    __table_args__ = holds_no_personal_data("update ids Telegram handed us, kept to skip repeats; nothing says whose")

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())
