"""Notices to dependants reach their guardians: ``deliveries.on_behalf_of``.

A delivery to a guardian's chat about a dependant names the dependant's person id; 0 (the server
default, so every existing row reads back unchanged) for a message about the recipient themself.
The uniqueness becomes one message per campaign, chat and subject.

Revision ID: 0016_family_notices
Revises: 0015_review_reads
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0016_family_notices"
down_revision: str | None = "0015_review_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("on_behalf_of", sa.BigInteger(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_deliveries_campaign_id_telegram_id", type_="unique")
        batch.create_unique_constraint("uq_deliveries_campaign_id_telegram_id_on_behalf_of",
                                       ["campaign_id", "telegram_id", "on_behalf_of"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_campaign_id_telegram_id_on_behalf_of", type_="unique")
        batch.create_unique_constraint("uq_deliveries_campaign_id_telegram_id", ["campaign_id", "telegram_id"])
        batch.drop_column("on_behalf_of")
