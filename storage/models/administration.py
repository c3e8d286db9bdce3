"""Administrator tables: the audit log, health-authority decisions, risk areas, and the masked-ID index."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, holds_no_personal_data, personal


class AuditRow(Base):
    """Administrative actions and refused attempts. ``detail`` is JSON without personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_telegram_id: Mapped[int] = mapped_column(BigInteger, index=True, info=personal(Personal.ACTOR))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True, info=personal(Personal.REFERENCE))
    detail: Mapped[str] = mapped_column(Text)


class DecisionRow(Base):
    """A colour forced by the health authority; the reason may be medical, so it is sealed."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    colour: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    first_day: Mapped[date] = mapped_column(Date, info=personal(Personal.CONTENT))
    last_day: Mapped[date] = mapped_column(Date, index=True, info=personal(Personal.CONTENT))
    reason_enc: Mapped[bytes] = mapped_column(LargeBinary, info=personal(Personal.SEALED))
    decided_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))


class RiskAreaRow(Base):
    """One listing of a region: in force from ``effective_from`` until the day before ``effective_until``."""

    __tablename__ = "risk_areas"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    level: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    added_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CacheVersionRow(Base):
    """A counter per table that processes cache (``risk_areas``): bumped in the transaction that changes
    the table, read in the same query that loads an update's sender, so no process serves a stale copy."""

    __tablename__ = "cache_versions"
    __table_args__ = holds_no_personal_data("a table name and a change counter")

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ResidentIdMaskRow(Base):
    """Blind index of an ID's first four and last four characters, for finding people by masked ID.

    Kept beside ``users`` (one row per user, filled on first need) so the lookup is one indexed
    equality instead of decrypting every ID. Many people share a mask, so a lookup may be ambiguous.
    """

    __tablename__ = "resident_id_masks"

    user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False,
        info=personal(Personal.USER),
    )
    mask_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True, info=personal(Personal.BLIND_INDEX))
