"""Indexes for reading what was withdrawn since a moment.

Every verifying process keeps our revocation list in memory and asks only for what was revoked,
superseded or erased since it last looked; these make that a range read, not a table scan.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_credentials_superseded_at", "credentials", ["superseded_at"])
    op.create_index("ix_credentials_revoked_at", "credentials", ["revoked_at"])
    op.create_index("ix_withdrawn_credentials_withdrawn_at", "withdrawn_credentials", ["withdrawn_at"])


def downgrade() -> None:
    op.drop_index("ix_withdrawn_credentials_withdrawn_at", table_name="withdrawn_credentials")
    op.drop_index("ix_credentials_revoked_at", table_name="credentials")
    op.drop_index("ix_credentials_superseded_at", table_name="credentials")
