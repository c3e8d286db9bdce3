"""Record the policy each status was evaluated under.

The README and the default policy promise that the policy version is recorded with every evaluated
code. Rows stored before this revision cannot know theirs: they keep NULL, shown as "not recorded",
until the next evaluation (at the latest the next day change) stores the version in force.

Revision ID: 0006_status_policy_version
Revises: 0005_data_key_check
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_status_policy_version"
down_revision: str | None = "0005_data_key_check"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("statuses") as batch:
        batch.add_column(sa.Column("policy_version", sa.String(64), nullable=True))
        batch.add_column(sa.Column("policy_name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statuses") as batch:
        batch.drop_column("policy_name")
        batch.drop_column("policy_version")
