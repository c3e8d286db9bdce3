"""Per-person order of webhook updates: ``last_updates``.

The newest update id handled for each Telegram account, so a delivery that arrives after a later
one of the same person (webhook connections race, and so do several bot processes) is not run
after it. One row per account; erased with the account; kept two days (Telegram holds an update
it could not deliver for 24 hours).

Revision ID: 0017_update_order
Revises: 0016_family_notices
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_update_order"
down_revision: str | None = "0016_family_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def UTCDateTime() -> sa.DateTime:  # noqa: N802 - must match storage.models' type (migrations never import models)
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "last_updates",
        sa.Column("telegram_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("last_updates")
