"""Scheduler, reminders, consents, retention aggregates.

Tables: scheduled_jobs, job_runs, consents, reminder_settings, status_notices, daily_counts,
withdrawn_credentials.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("spec", sa.String(128), nullable=False),
        _instant("next_due_at"),
        _instant("last_due_at", nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        _instant("lease_until", nullable=True),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_scheduled_jobs"),
    )

    op.create_table(
        "job_runs",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("job_name", sa.String(64), nullable=False),
        _instant("due_at"),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        _instant("started_at"),
        _instant("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.UniqueConstraint("job_name", "due_at", name="uq_job_runs_job_name_due_at"),
    )
    op.create_index("ix_job_runs_started_at", "job_runs", ["started_at"])

    op.create_table(
        "consents",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        _instant("accepted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        _user_fk("consents"),
        sa.UniqueConstraint("user_id", "version", name="uq_consents_user_id_version"),
    )

    op.create_table(
        "reminder_settings",
        sa.Column("user_id", SURROGATE_ID, autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("remind_at", sa.String(5), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.Column("last_batch", sa.String(32), nullable=True),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_reminder_settings"),
        _user_fk("reminder_settings"),
    )
    op.create_index("ix_reminder_settings_last_batch", "reminder_settings", ["last_batch"])

    op.create_table(
        "status_notices",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("days_left", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_status_notices"),
        _user_fk("status_notices"),
        sa.UniqueConstraint("user_id", "day", name="uq_status_notices_user_id_day"),
    )
    op.create_index("ix_status_notices_day", "status_notices", ["day"])

    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(16), nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("codes", sa.Integer(), nullable=False),
        sa.Column("declared", sa.Integer(), nullable=False),
        _instant("computed_at"),
        sa.PrimaryKeyConstraint("day", "region_code", "colour", name="pk_daily_counts"),
    )

    op.create_table(
        "withdrawn_credentials",
        sa.Column("cti", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        _instant("expires_at"),
        _instant("withdrawn_at"),
        sa.PrimaryKeyConstraint("cti", name="pk_withdrawn_credentials"),
    )
    op.create_index("ix_withdrawn_credentials_expires_at", "withdrawn_credentials", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_withdrawn_credentials_expires_at", table_name="withdrawn_credentials")
    op.drop_table("withdrawn_credentials")
    op.drop_table("daily_counts")
    op.drop_index("ix_status_notices_day", table_name="status_notices")
    op.drop_table("status_notices")
    op.drop_index("ix_reminder_settings_last_batch", table_name="reminder_settings")
    op.drop_table("reminder_settings")
    op.drop_table("consents")
    op.drop_index("ix_job_runs_started_at", table_name="job_runs")
    op.drop_table("job_runs")
    op.drop_table("scheduled_jobs")
