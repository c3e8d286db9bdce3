"""Checkpoints (their staff, invites, scans and readings) and organisation kinds.

Five new tables, and ``organisations.kind`` added with the server default ``enterprise``, so every
organisation registered before it reads back as an enterprise and nothing else changes.

Revision ID: 0012_checkpoints_and_org_types
Revises: 0011_dependants
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0012_checkpoints_and_org_types"
down_revision: str | None = "0011_dependants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId and UTCDateTime (migrations never import the models).
SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def UTCDateTime() -> sa.DateTime:  # noqa: N802 - reads like the model's column type
    return sa.DateTime(timezone=True)


def _cascade(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="enterprise"))
        batch.create_index(batch.f("ix_organisations_kind"), ["kind"])
    op.create_table(
        "checkpoints",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("organisation_id", SurrogateId, nullable=True),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _cascade("checkpoints", "organisation_id", "organisations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
    )
    op.create_index(op.f("ix_checkpoints_organisation_id"), "checkpoints", ["organisation_id"])
    op.create_index(op.f("ix_checkpoints_region_code"), "checkpoints", ["region_code"])
    op.create_table(
        "checkpoint_staff",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("checkpoint_id", SurrogateId, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        _cascade("checkpoint_staff", "checkpoint_id", "checkpoints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_staff")),
        sa.UniqueConstraint("checkpoint_id", "telegram_id", name=op.f("uq_checkpoint_staff_checkpoint_id_telegram_id")),
    )
    op.create_index(op.f("ix_checkpoint_staff_telegram_id"), "checkpoint_staff", ["telegram_id"])
    op.create_table(
        "checkpoint_invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("checkpoint_id", SurrogateId, nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        _cascade("checkpoint_invites", "checkpoint_id", "checkpoints"),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_checkpoint_invites")),
    )
    op.create_index(op.f("ix_checkpoint_invites_checkpoint_id"), "checkpoint_invites", ["checkpoint_id"])
    op.create_table(
        "checkpoint_scans",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(16), nullable=False),
        sa.Column("user_id", SurrogateId, nullable=False),
        sa.Column("checkpoint_id", SurrogateId, nullable=False),
        sa.Column("staff_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        _cascade("checkpoint_scans", "user_id", "users"),
        _cascade("checkpoint_scans", "checkpoint_id", "checkpoints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_scans")),
        sa.UniqueConstraint("ref", name=op.f("uq_checkpoint_scans_ref")),
    )
    op.create_index("ix_checkpoint_scans_user_id_at", "checkpoint_scans", ["user_id", "at"])
    op.create_index(op.f("ix_checkpoint_scans_at"), "checkpoint_scans", ["at"])
    op.create_table(
        "checkpoint_readings",
        sa.Column("id", SurrogateId, primary_key=True, autoincrement=True),
        sa.Column("user_id", SurrogateId, nullable=False),
        sa.Column("checkpoint_id", SurrogateId, nullable=False),
        sa.Column("staff_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("temperature_enc", sa.LargeBinary(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        _cascade("checkpoint_readings", "user_id", "users"),
        _cascade("checkpoint_readings", "checkpoint_id", "checkpoints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_readings")),
    )
    op.create_index("ix_checkpoint_readings_user_id_day", "checkpoint_readings", ["user_id", "day"])
    op.create_index(op.f("ix_checkpoint_readings_at"), "checkpoint_readings", ["at"])


def downgrade() -> None:
    for table in ("checkpoint_readings", "checkpoint_scans", "checkpoint_invites", "checkpoint_staff", "checkpoints"):
        op.drop_table(table)
    with op.batch_alter_table("organisations") as batch:
        batch.drop_index(batch.f("ix_organisations_kind"))
        batch.drop_column("kind")
