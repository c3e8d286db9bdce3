"""Appointed administrators (a role over a region scope) and the single-use invites that appoint them.

The root administrators (``HEALTHCODE_ADMIN_IDS``) are not stored: they come from the settings.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal


class AdministratorRow(Base):
    """One appointment; a revoked one keeps its row (``revoked_at``) so the history stays readable."""

    __tablename__ = "administrators"
    # Every update of an administrator reads their live appointments; /admins lists a scope's.
    __table_args__ = (Index("ix_administrators_telegram_id_revoked_at", "telegram_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    telegram_id: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.TELEGRAM))
    role: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    # A six-digit GB/T 2260 code in clear: a region is no personal data, and storage filters by it in SQL.
    scope: Mapped[str] = mapped_column(String(6), index=True, info=personal(Personal.CONTENT))
    appointed_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.CONTENT))
    revoked_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))


class AdministratorInviteRow(Base):
    """A single-use, expiring invitation to hold ``role`` over ``scope``.

    Only a keyed digest of the code is stored (``code_digest``): the code is a capability, and a copy of
    the database must not be enough to accept a pending invitation.
    """

    __tablename__ = "administrator_invites"

    code_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(6))
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
