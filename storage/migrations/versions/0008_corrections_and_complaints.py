"""Correction requests (纠错), complaints and reports (投诉、检举), and the messages relayed on a case.

New tables only: existing data is untouched.

Revision ID: 0008_corrections_and_complaints
Revises: 0007_administrators
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008_corrections_and_complaints"
down_revision: str | None = "0007_administrators"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _users_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "correction_requests",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("disputed", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        sa.Column("evidence_enc", sa.LargeBinary(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("filed_at"),
        sa.Column("reviewer", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("answer_enc", sa.LargeBinary(), nullable=True),
        _instant("decided_at", nullable=True),
        _instant("reminded_at", nullable=True),
        _instant("escalated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_correction_requests"),
        _users_fk("correction_requests", "user_id"),
    )
    op.create_index("ix_correction_requests_user_id", "correction_requests", ["user_id"])
    op.create_index("ix_correction_requests_decided_at", "correction_requests", ["decided_at"])
    op.create_index("ix_correction_requests_state_filed_at", "correction_requests", ["state", "filed_at"])

    op.create_table(
        "complaints",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("reporter_id", SURROGATE_ID, nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("organisation_id", SURROGATE_ID, nullable=True),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("filed_at"),
        sa.Column("handler", sa.BigInteger(), nullable=True),
        _instant("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_complaints"),
        _users_fk("complaints", "reporter_id"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_complaints_organisation_id_organisations", ondelete="SET NULL"),
    )
    for column in ("reporter_id", "organisation_id", "region_code", "state", "closed_at"):
        op.create_index(f"ix_complaints_{column}", "complaints", [column])

    op.create_table(
        "complaint_messages",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("complaint_id", SURROGATE_ID, nullable=False),
        sa.Column("reporter_id", SURROGATE_ID, nullable=False),
        sa.Column("from_reporter", sa.Boolean(), nullable=False),
        sa.Column("reviewer", sa.BigInteger(), nullable=True),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        _instant("sent_at"),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_messages"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"],
                                name="fk_complaint_messages_complaint_id_complaints", ondelete="CASCADE"),
        _users_fk("complaint_messages", "reporter_id"),
    )
    op.create_index("ix_complaint_messages_complaint_id", "complaint_messages", ["complaint_id"])
    op.create_index("ix_complaint_messages_reporter_id", "complaint_messages", ["reporter_id"])


def downgrade() -> None:
    op.drop_table("complaint_messages")
    op.drop_table("complaints")
    op.drop_table("correction_requests")
