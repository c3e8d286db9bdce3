"""Mini App notices queued one row per person: ``miniapp_notices``.

A declaration made in the Mini App queues its chat notice here (one row per person while it waits)
instead of starting a one-person campaign; the delivery worker hands the waiting rows to bulk delivery
in bulk and deletes them in the same transaction. Campaigns started before (one person each) are sent
as they are.

Revision ID: 0019_miniapp_notices
Revises: 0018_sender_shares
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0019_miniapp_notices"
down_revision: str | None = "0018_sender_shares"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId (migrations never import the models).
SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "miniapp_notices",
        sa.Column("user_id", SurrogateId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_miniapp_notices_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_miniapp_notices")),
    )


def downgrade() -> None:
    op.drop_table("miniapp_notices")
