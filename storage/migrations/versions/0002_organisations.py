"""Organisations, memberships, access log, authority decisions, risk areas, bulk delivery.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[int]:
    return sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False)


def _cascade(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}", ondelete="CASCADE")


def upgrade() -> None:
    _organisations()
    _administration()
    _delivery()


def _organisations() -> None:
    op.create_table(
        "organisations",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        _instant("requested_at"),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        _instant("decided_at", nullable=True),
        sa.Column("invite_code", sa.String(32), nullable=True),
        sa.Column("last_reminded_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("invite_code", name="uq_organisations_invite_code"),
    )
    op.create_index("ix_organisations_credit_code", "organisations", ["credit_code"])
    op.create_index("ix_organisations_status", "organisations", ["status"])

    op.create_table(
        "organisation_managers",
        sa.Column("organisation_id", SURROGATE_ID, autoincrement=False, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        _instant("added_at"),
        sa.PrimaryKeyConstraint("organisation_id", "telegram_id", name="pk_organisation_managers"),
        _cascade("organisation_managers", "organisation_id", "organisations"),
    )
    op.create_index("ix_organisation_managers_telegram_id", "organisation_managers", ["telegram_id"])

    op.create_table(
        "manager_invites",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("organisation_id", SURROGATE_ID, nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        _instant("used_at", nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_manager_invites"),
        _cascade("manager_invites", "organisation_id", "organisations"),
    )
    op.create_index("ix_manager_invites_organisation_id", "manager_invites", ["organisation_id"])

    op.create_table(
        "memberships",
        _id(),
        sa.Column("organisation_id", SURROGATE_ID, nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        _instant("joined_at"),
        _instant("left_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_memberships"),
        _cascade("memberships", "organisation_id", "organisations"),
        _cascade("memberships", "user_id", "users"),
        sa.UniqueConstraint("organisation_id", "user_id", name="uq_memberships_organisation_id_user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])

    op.create_table(
        "access_log",
        _id(),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("organisation_id", SURROGATE_ID, nullable=False),
        sa.Column("reader_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        _instant("at"),
        sa.PrimaryKeyConstraint("id", name="pk_access_log"),
        _cascade("access_log", "user_id", "users"),
        _cascade("access_log", "organisation_id", "organisations"),
    )
    op.create_index("ix_access_log_user_id_at", "access_log", ["user_id", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])


def _administration() -> None:
    op.create_table(
        "audit_log",
        _id(),
        _instant("at"),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_actor_telegram_id", "audit_log", ["actor_telegram_id"])

    op.create_table(
        "decisions",
        _id(),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=False),
        _instant("decided_at"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        _cascade("decisions", "user_id", "users"),
    )
    op.create_index("ix_decisions_user_id", "decisions", ["user_id"])
    op.create_index("ix_decisions_last_day", "decisions", ["last_day"])

    op.create_table(
        "risk_areas",
        _id(),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        _instant("added_at"),
        sa.Column("ended_by", sa.BigInteger(), nullable=True),
        _instant("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_risk_areas"),
    )
    op.create_index("ix_risk_areas_region_code", "risk_areas", ["region_code"])

    op.create_table(
        "resident_id_masks",
        sa.Column("user_id", SURROGATE_ID, autoincrement=False, nullable=False),
        sa.Column("mask_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_resident_id_masks"),
        _cascade("resident_id_masks", "user_id", "users"),
    )
    op.create_index("ix_resident_id_masks_mask_hash", "resident_id_masks", ["mask_hash"])


def _delivery() -> None:
    op.create_table(
        "campaigns",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _instant("created_at"),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("audience_kind", sa.String(16), nullable=False),
        sa.Column("audience_value", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("progress_message_id", sa.BigInteger(), nullable=True),
        _instant("finished_at", nullable=True),
        sa.Column("cancelled_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
    )
    op.create_index("ix_campaigns_status", "campaigns", ["status"])

    op.create_table(
        "deliveries",
        _id(),
        sa.Column("campaign_id", SURROGATE_ID, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("claimed_by", sa.String(32), nullable=True),
        _instant("lease_until", nullable=True),
        _instant("not_before", nullable=True),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        _cascade("deliveries", "campaign_id", "campaigns"),
        sa.UniqueConstraint("campaign_id", "telegram_id", name="uq_deliveries_campaign_id_telegram_id"),
    )
    op.create_index("ix_deliveries_status_id", "deliveries", ["status", "id"])
    op.create_index("ix_deliveries_campaign_id_status", "deliveries", ["campaign_id", "status"])
    op.create_index("ix_deliveries_telegram_id", "deliveries", ["telegram_id"])

    op.create_table(
        "campaign_attachments",
        _id(),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("filename", sa.String(128), nullable=False),
        sa.Column("telegram_file_id", sa.String(256), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_attachments"),
    )


def downgrade() -> None:
    for table in (
        "campaign_attachments",
        "deliveries",
        "campaigns",
        "resident_id_masks",
        "risk_areas",
        "decisions",
        "audit_log",
        "access_log",
        "memberships",
        "manager_invites",
        "organisation_managers",
        "organisations",
    ):
        op.drop_table(table)
