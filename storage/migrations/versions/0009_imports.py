"""Imports of an authority's list (/import): the import record and the digests kept for later registrations.

Two new tables; nothing existing changes, so a database with data upgrades as it is.

Revision ID: 0009_imports
Revises: 0008_corrections_and_complaints
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009_imports"
down_revision: str | None = "0008_corrections_and_complaints"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId and UTCDateTime (migrations never import the models).
SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def UTCDateTime() -> sa.DateTime:  # noqa: N802 - reads like the model's column type
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(6), nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("outside_scope", sa.Integer(), nullable=False),
        sa.Column("not_registered", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("late_matched", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_created_by"), "imports", ["created_by"])
    op.create_index(op.f("ix_imports_last_day"), "imports", ["last_day"])
    op.create_table(
        "import_pending",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("import_id", SurrogateId, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_import_pending_import_id_imports"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_pending")),
    )
    op.create_index(op.f("ix_import_pending_import_id"), "import_pending", ["import_id"])
    op.create_index(op.f("ix_import_pending_digest"), "import_pending", ["digest"])
    op.create_index(op.f("ix_import_pending_expires_on"), "import_pending", ["expires_on"])


def downgrade() -> None:
    op.drop_table("import_pending")
    op.drop_table("imports")
