"""Notices to dependants reach their guardians (``deliveries.on_behalf_of``); guardians' reads in the
access log (``access_log.organisation_id`` nullable: no organisation, a guardian read).

A delivery to a guardian's chat about a dependant names the dependant's person id; 0 (the server
default, so every existing row reads back unchanged) for a message about the recipient themself.
The uniqueness becomes one message per campaign, chat and subject.

Revision ID: 0013_family_notices
Revises: 0012_checkpoints_and_org_types
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0013_family_notices"
down_revision: str | None = "0012_checkpoints_and_org_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId (migrations never import the models).
SurrogateId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("on_behalf_of", sa.BigInteger(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_deliveries_campaign_id_telegram_id", type_="unique")
        batch.create_unique_constraint("uq_deliveries_campaign_id_telegram_id_on_behalf_of",
                                       ["campaign_id", "telegram_id", "on_behalf_of"])
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column("organisation_id", existing_type=SurrogateId, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM access_log WHERE organisation_id IS NULL")
    with op.batch_alter_table("access_log") as batch:
        batch.alter_column("organisation_id", existing_type=SurrogateId, nullable=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint("uq_deliveries_campaign_id_telegram_id_on_behalf_of", type_="unique")
        batch.create_unique_constraint("uq_deliveries_campaign_id_telegram_id", ["campaign_id", "telegram_id"])
        batch.drop_column("on_behalf_of")
