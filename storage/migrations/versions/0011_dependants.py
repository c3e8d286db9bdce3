"""Guardians and dependants: the guardian links, the second guardian's invites, proxy declarations.

A dependant is a ``users`` row whose ``telegram_id`` is a person id from the negative range Telegram
never uses (see ``storage.models.family``); no column of ``users`` changes. Existing declarations were
all made by the person themselves: ``by_proxy`` is false for them.

Revision ID: 0011_dependants
Revises: 0010_paper_codes
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011_dependants"
down_revision: str | None = "0010_paper_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _to_users(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "guardians",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("guardian_user_id", SURROGATE_ID, nullable=False),
        sa.Column("dependant_user_id", SURROGATE_ID, nullable=False),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("notice_version", sa.String(32), nullable=False),
        _instant("agreed_at"),
        sa.Column("access", sa.String(8), server_default="full", nullable=False),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_guardians"),
        _to_users("guardians", "guardian_user_id"),
        _to_users("guardians", "dependant_user_id"),
        sa.UniqueConstraint("guardian_user_id", "dependant_user_id", name="uq_guardians_guardian_user_id_dependant_user_id"),
        sa.CheckConstraint("guardian_user_id <> dependant_user_id", name="ck_guardians_not_own_guardian"),
        sa.CheckConstraint("access IN ('full', 'read')", name="ck_guardians_access_kind"),
    )
    op.create_index("ix_guardians_guardian_user_id", "guardians", ["guardian_user_id"])
    op.create_index("ix_guardians_dependant_user_id", "guardians", ["dependant_user_id"])
    op.create_table(
        "guardian_invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("dependant_user_id", SURROGATE_ID, nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        _instant("used_at", nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_guardian_invites"),
        _to_users("guardian_invites", "dependant_user_id"),
    )
    op.create_index("ix_guardian_invites_dependant_user_id", "guardian_invites", ["dependant_user_id"])
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("by_proxy", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("by_proxy")
    op.drop_index("ix_guardian_invites_dependant_user_id", table_name="guardian_invites")
    op.drop_table("guardian_invites")
    op.drop_index("ix_guardians_dependant_user_id", table_name="guardians")
    op.drop_index("ix_guardians_guardian_user_id", table_name="guardians")
    op.drop_table("guardians")
