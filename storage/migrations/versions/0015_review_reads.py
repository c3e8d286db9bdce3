"""Reviewers' reads in the person's access log.

A reviewer reads a person's data for no organisation: ``access_log.organisation_id`` becomes nullable,
and ``reader_scope`` (the reviewer's region code, shown to the person as "reviewer (Hangzhou)") is added,
null for every existing row (all of them organisations' reads). No row changes.

Revision ID: 0015_review_reads
Revises: 0014_import_jobs
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0015_review_reads"
down_revision: str | None = "0014_import_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column("organisation_id", existing_type=SurrogateId, nullable=True)
        batch.add_column(sa.Column("reader_scope", sa.String(12), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM access_log WHERE organisation_id IS NULL")
    with op.batch_alter_table("access_log") as batch:
        batch.drop_column("reader_scope")
        batch.alter_column("organisation_id", existing_type=SurrogateId, nullable=False)
