"""Initial schema: users, preferences, conversations, declarations, statuses, credentials, updates.

Revision ID: 0001
Revises:
Create Date: 2024-01-01
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match storage.models.SurrogateId: SQLite only auto-numbers INTEGER PRIMARY KEY.
SURROGATE_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("resident_id_enc", sa.LargeBinary(), nullable=False),
        sa.Column("resident_id_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("region_code", sa.String(16), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        _instant("consented_at"),
        _instant("created_at"),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("telegram_id", name="uq_users_telegram_id"),
        sa.UniqueConstraint("subject_id", name="uq_users_subject_id"),
        sa.UniqueConstraint("resident_id_hash", name="uq_users_resident_id_hash"),
    )
    op.create_index("ix_users_phone_hash", "users", ["phone_hash"])

    op.create_table(
        "preferences",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("telegram_id", name="pk_preferences"),
    )

    op.create_table(
        "conversation_states",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("draft_enc", sa.LargeBinary(), nullable=False),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("telegram_id", name="pk_conversation_states"),
    )

    op.create_table(
        "declarations",
        sa.Column("id", SURROGATE_ID, autoincrement=True, nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("answers_enc", sa.LargeBinary(), nullable=False),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_declarations"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_declarations_user_id_users", ondelete="CASCADE"
        ),
        # Its index on (user_id, day) serves the per-user range queries too.
        sa.UniqueConstraint("user_id", "day", name="uq_declarations_user_id_day"),
    )

    op.create_table(
        "statuses",
        sa.Column("user_id", SURROGATE_ID, autoincrement=False, nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("green_on", sa.Date(), nullable=True),
        sa.Column("evaluated_for", sa.Date(), nullable=False),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_statuses"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_statuses_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_statuses_colour", "statuses", ["colour"])

    op.create_table(
        "credentials",
        sa.Column("cti", sa.String(64), nullable=False),
        sa.Column("user_id", SURROGATE_ID, nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("status_key", sa.String(128), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        _instant("issued_at"),
        _instant("expires_at"),
        _instant("superseded_at", nullable=True),
        _instant("revoked_at", nullable=True),
        sa.Column("telegram_file_id", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("cti", name="pk_credentials"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_credentials_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_credentials_user_id", "credentials", ["user_id"])
    op.create_index("ix_credentials_expires_at", "credentials", ["expires_at"])

    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        _instant("processed_at"),
        sa.PrimaryKeyConstraint("update_id", name="pk_processed_updates"),
    )


def downgrade() -> None:
    op.drop_table("processed_updates")
    op.drop_index("ix_credentials_expires_at", table_name="credentials")
    op.drop_index("ix_credentials_user_id", table_name="credentials")
    op.drop_table("credentials")
    op.drop_index("ix_statuses_colour", table_name="statuses")
    op.drop_table("statuses")
    op.drop_table("declarations")
    op.drop_table("conversation_states")
    op.drop_table("preferences")
    op.drop_index("ix_users_phone_hash", table_name="users")
    op.drop_table("users")
