"""whatsapp and the web chat: message ids as strings in the journal, numbered options, the web mailbox and
files, and an index to find a member's outbox rows (receipts)

Revision ID: 0004_whatsapp
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0004_whatsapp"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # WhatsApp's message ids are strings ("wamid.HBgM..."); Telegram's numbers are kept as their digits.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("processed_updates", "update_id", type_=sa.String(length=128),
                        existing_type=sa.BigInteger(), postgresql_using="update_id::text")
    else:
        with op.batch_alter_table("processed_updates", schema=None) as batch_op:
            batch_op.alter_column("update_id", type_=sa.String(length=128), existing_type=sa.BigInteger())

    op.create_table(
        "numbered_choices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payloads", sa.JSON(), nullable=False),
        sa.Column("offered_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "web_mailbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_mailbox_user_id", "web_mailbox", ["user_id"], unique=False)
    op.create_table(
        "web_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_files_user_id", "web_files", ["user_id"], unique=False)
    op.create_index("ix_deliveries_user", "deliveries", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_user", table_name="deliveries")
    op.drop_index("ix_web_files_user_id", table_name="web_files")
    op.drop_table("web_files")
    op.drop_index("ix_web_mailbox_user_id", table_name="web_mailbox")
    op.drop_table("web_mailbox")
    op.drop_table("numbered_choices")
    # WhatsApp's ids cannot be numbers: their rows go (they only guard against redelivery for a week)
    op.execute("delete from processed_updates where channel <> 'telegram'")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("processed_updates", "update_id", type_=sa.BigInteger(),
                        existing_type=sa.String(length=128), postgresql_using="update_id::bigint")
    else:
        with op.batch_alter_table("processed_updates", schema=None) as batch_op:
            batch_op.alter_column("update_id", type_=sa.BigInteger(), existing_type=sa.String(length=128))
