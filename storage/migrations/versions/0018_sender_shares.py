"""The bot's outgoing rate shared by its processes: ``sender_shares`` (bot/rate_share.py).

Revision ID: 0018_sender_shares
Revises: 0017_update_order
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_sender_shares"
down_revision: str | None = "0017_update_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_shares",
        sa.Column("process_id", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("share", sa.Integer(), nullable=False),
        sa.Column("holds", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("process_id", name=op.f("pk_sender_shares")),
    )


def downgrade() -> None:
    op.drop_table("sender_shares")
