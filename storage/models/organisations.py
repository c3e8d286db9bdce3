"""Employer tables: organisations, their managers and invites, memberships, and the access log.

An organisation sees only what a member agreed to at joining (colour, declared today, masked
name); every read of a member's status leaves an access-log row the member can see.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class OrganisationRow(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | approved | rejected
    requested_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Not personal data and shown to managers again on request, so kept in clear.
    invite_code: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    last_reminded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # An OrganisationKind value: enterprise, school or community (社区). Rows from before it: enterprise.
    kind: Mapped[str] = mapped_column(String(16), default="enterprise", server_default="enterprise", index=True)


class OrganisationManagerRow(Base):
    """Managers are Telegram accounts: an HR officer need not be a registered citizen."""

    __tablename__ = "organisation_managers"

    organisation_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False,
        info=personal(Personal.CONTENT),
    )
    telegram_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True, info=personal(Personal.TELEGRAM)
    )
    added_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class ManagerInviteRow(Base):
    """A single-use code that makes whoever redeems it a further manager."""

    __tablename__ = "manager_invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MembershipRow(Base):
    """One row per (organisation, user); leaving sets ``left_at``, joining again clears it."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    organisation_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="CASCADE"), info=personal(Personal.CONTENT)
    )
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    consent_version: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.CONTENT))


class AccessLogRow(Base):
    """Who read what about whom, when: an organisation's manager (``organisation_id``), a reviewer
    acting for no organisation (``reader_scope``, the region the person sees them named by), or a
    guardian reading a dependant's record (neither: bot.services.household.read_by_guardian)."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), info=personal(Personal.USER)
    )
    organisation_id: Mapped[int | None] = mapped_column(
        SurrogateId, ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, info=personal(Personal.CONTENT)
    )
    reader_scope: Mapped[str | None] = mapped_column(String(12), nullable=True, info=personal(Personal.CONTENT))
    reader_telegram_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    what: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True, info=personal(Personal.CONTENT))
