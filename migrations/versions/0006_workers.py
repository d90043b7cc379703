"""several worker processes on one database: leases on the update journal, long button payloads, the shared
send budget and the content version; joins the branches 0002-0005 (a merge revision)

Revision ID: 0006_workers
Revises: 0002_coordinators, 0003_mentoring, 0004_whatsapp, 0005_network_privacy
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0006_workers"
down_revision = ("0002_coordinators", "0003_mentoring", "0004_whatsapp", "0005_network_privacy")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("processed_updates", sa.Column("lease_owner", sa.String(length=80), nullable=True))
    op.add_column("processed_updates",
                  sa.Column("lease_until", bot.db.models.UTCDateTime(timezone=True), nullable=True))
    # rows taken but never handled before this revision: their lease is over, any worker may take them
    op.execute("update processed_updates set lease_until = created_at "
               "where handled_at is null and incoming is not null")
    op.create_index("ix_processed_updates_lease", "processed_updates", ["channel", "lease_until"])
    op.create_index("ix_processed_updates_owner", "processed_updates", ["lease_owner"])
    op.create_table(
        "button_payloads",
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("used_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("purpose", "key"),
    )
    op.create_table(
        "send_budget",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat"),
    )
    op.create_table(
        "content_versions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("content_versions")
    op.drop_table("send_budget")
    op.drop_table("button_payloads")
    op.drop_index("ix_processed_updates_owner", table_name="processed_updates")
    op.drop_index("ix_processed_updates_lease", table_name="processed_updates")
    with op.batch_alter_table("processed_updates") as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
