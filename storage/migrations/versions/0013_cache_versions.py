"""A change counter for the tables processes cache (the risk-area list).

Each process keeps the risk-area list in memory; the counter, bumped in the transaction that changes
the list and read with the update's sender in one query, tells it when its copy is out of date.

Revision ID: 0013_cache_versions
Revises: 0012_checkpoints_and_org_types
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_cache_versions"
down_revision: str | None = "0012_checkpoints_and_org_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "cache_versions",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"name": "risk_areas", "version": 0}])


def downgrade() -> None:
    op.drop_table("cache_versions")
