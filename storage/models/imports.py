"""Imports of an authority's list (/import): the import record, and the blind indexes a confirmed import
keeps of the people it named who are not registered yet, so they are matched when they register.

The list itself is never stored: the record keeps who imported it, when, what it decided, the counts
and the SHA-256 of the file. The indexes are the same keyed digests ``users`` keeps of every resident
ID and phone (``storage.encryption.FieldCipher.blind_index``), so they can be compared without
opening anyone's data; they go when the person is matched, the import is cancelled, or its decision
window ends.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, holds_no_personal_data, personal


class ImportRow(Base):
    """One import: a dry run (``draft``), then ``confirmed`` or ``cancelled``. Counts, never names."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    created_by: Mapped[int] = mapped_column(BigInteger, index=True, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))  # draft, applying (confirmed, decisions being made), confirmed, cancelled
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # resident_id or phone
    scope: Mapped[str] = mapped_column(String(6))  # the importer's scope, which late matches keep to
    colour: Mapped[str] = mapped_column(String(16))
    days: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(32))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date, index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_bytes: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    listed: Mapped[int] = mapped_column(Integer)  # distinct well-formed identifiers
    matched: Mapped[int] = mapped_column(Integer)  # people in scope (a decision each, once confirmed)
    outside_scope: Mapped[int] = mapped_column(Integer)
    not_registered: Mapped[int] = mapped_column(Integer)
    malformed: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    late_matched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # decisions made after Confirm


class ImportPendingRow(Base):
    """A listed identifier not (yet) matched: its blind index, until ``expires_on`` (the window's last day)."""

    __tablename__ = "import_pending"
    __table_args__ = holds_no_personal_data(
        "keyed digests of identifiers on an authority's list whose holders are not registered here (there "
        "is nobody's record to export or erase); a digest goes when its holder registers and is matched, "
        "when the import is cancelled, or when the decision window ends"
    )

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(SurrogateId, ForeignKey("imports.id", ondelete="CASCADE"), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    expires_on: Mapped[date] = mapped_column(Date, index=True)


class ImportTargetRow(Base):
    """A person a confirmed import has still to give a decision: written at Confirm, deleted in the
    transaction that records their decision (so a run taken over after a crash never decides twice)."""

    __tablename__ = "import_targets"
    __table_args__ = (UniqueConstraint("import_id", "user_id"),)

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    import_id: Mapped[int] = mapped_column(SurrogateId, ForeignKey("imports.id", ondelete="CASCADE"),
                                           info=personal(Personal.ROW))
    user_id: Mapped[int] = mapped_column(SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True,
                                         info=personal(Personal.USER))
