"""Guardians and dependants.

Identity: a dependant is a citizen like any other, one ``users`` row with their own declarations,
status, credentials and consents (all keyed by ``users.id``). Having no Telegram account, their
``users.telegram_id`` is a *person id* from a range Telegram never uses: at or below
``-rules.family.PERSON_ID_OFFSET`` (``rules.family.is_dependant_id``). ``UserRepository`` enforces the
range both ways (registration refuses such an id; ``add_dependant`` draws only from it), and the row is
``active = false``, so reminders, notices and broadcasts, which go to active users only, never try to
reach an account that does not exist. One record per resident ID still holds: the resident ID's blind
index stays unique across citizens and dependants.

``guardians`` links a guardian's ``users.id`` to a dependant's, with the relation, the basis (the
guardian's own consent for a child under 14 under PIPL art. 31, or their attestation that an adult
agreed), the privacy-notice version and when. When the dependant claims their record from their own
account, one update replaces the person id with their Telegram id (every other row follows through
``users.id``) and their guardians' links turn ``read`` (read access only) until the dependant releases them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, SurrogateId, UTCDateTime
from storage.models.personal import Personal, personal

FULL_ACCESS, READ_ACCESS = "full", "read"


class GuardianRow(Base):
    __tablename__ = "guardians"
    __table_args__ = (
        UniqueConstraint("guardian_user_id", "dependant_user_id"),
        CheckConstraint("guardian_user_id <> dependant_user_id", name="not_own_guardian"),
        CheckConstraint("access IN ('full', 'read')", name="access_kind"),
    )

    id: Mapped[int] = mapped_column(SurrogateId, primary_key=True, autoincrement=True, info=personal(Personal.ROW))
    guardian_user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    dependant_user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    relation: Mapped[str] = mapped_column(String(16), info=personal(Personal.CONTENT))
    basis: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))  # rules.family.Basis
    notice_version: Mapped[str] = mapped_column(String(32), info=personal(Personal.CONTENT))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))
    access: Mapped[str] = mapped_column(String(8), default=FULL_ACCESS, server_default=FULL_ACCESS,
                                        info=personal(Personal.CONTENT))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.CONTENT))


class GuardianInviteRow(Base):
    """A single-use code with which a second guardian joins a dependant."""

    __tablename__ = "guardian_invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True, info=personal(Personal.ROW))
    dependant_user_id: Mapped[int] = mapped_column(
        SurrogateId, ForeignKey("users.id", ondelete="CASCADE"), index=True, info=personal(Personal.USER)
    )
    created_by: Mapped[int] = mapped_column(BigInteger, info=personal(Personal.ACTOR))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), info=personal(Personal.ROW))
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, info=personal(Personal.ACTOR))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, info=personal(Personal.ROW))
