"""Paper codes: a credential is the chat card's or a printed one (/print), which lives longer.

Every credential issued before this revision was a chat card: the column's default says so.

Revision ID: 0010_paper_codes
Revises: 0009_imports
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_paper_codes"
down_revision: str | None = "0009_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="card"))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("kind")
