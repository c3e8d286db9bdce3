"""Imports applied in the background: the people a confirmed import has still to give a decision.

One new table, and a count on ``imports`` (0 for the imports confirmed before, whose decisions were
all made at Confirm); a database with data upgrades as it is.

Revision ID: 0014_import_jobs
Revises: 0013_cache_versions
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0014_import_jobs"
down_revision: str | None = "0013_cache_versions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId (migrations never import the models).
SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("imports", sa.Column("applied", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "import_targets",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("import_id", SurrogateId, nullable=False),
        sa.Column("user_id", SurrogateId, nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_import_targets_import_id_imports"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_import_targets_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_targets")),
        sa.UniqueConstraint("import_id", "user_id", name="uq_import_targets_import_id_user_id"),
    )
    op.create_index(op.f("ix_import_targets_user_id"), "import_targets", ["user_id"])


def downgrade() -> None:
    op.drop_table("import_targets")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("applied")
