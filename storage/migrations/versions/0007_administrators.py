"""Appointed administrators (a role over a region scope) and their single-use invitations.

Two new tables; nothing existing changes, so every row stored before reads back as it was.

Revision ID: 0007_administrators
Revises: 0006_status_policy_version
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007_administrators"
down_revision: str | None = "0006_status_policy_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "administrators",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(6), nullable=False),
        sa.Column("appointed_by", sa.BigInteger(), nullable=False),
        _instant("appointed_at"),
        _instant("revoked_at", nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_administrators"),
    )
    op.create_index("ix_administrators_telegram_id_revoked_at", "administrators", ["telegram_id", "revoked_at"])
    op.create_index("ix_administrators_scope", "administrators", ["scope"])
    op.create_table(
        "administrator_invites",
        sa.Column("code_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(6), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        _instant("used_at", nullable=True),
        sa.PrimaryKeyConstraint("code_digest", name="pk_administrator_invites"),
    )


def downgrade() -> None:
    op.drop_table("administrator_invites")
    op.drop_index("ix_administrators_scope", "administrators")
    op.drop_index("ix_administrators_telegram_id_revoked_at", "administrators")
    op.drop_table("administrators")
