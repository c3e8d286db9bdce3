"""The data key's check value, so a wrong or missing HEALTHCODE_DATA_KEY_FILE is refused at start.

The row is written by the first start after this migration (with the key given then), not here:
a migration never sees the key.

Revision ID: 0005_data_key_check
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_data_key_check"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_key_check",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("check_value", sa.LargeBinary(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_key_check"),
    )


def downgrade() -> None:
    op.drop_table("data_key_check")
