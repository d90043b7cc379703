"""coordinators: broadcasts, reviews, and the outbox's priorities, rendering, templates, references and leases

Revision ID: 0002_coordinators
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision = "0002_coordinators"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.JSON(), nullable=True),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_ref", sa.String(length=100), nullable=True),
        sa.Column("progress_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_status_scheduled", ["status", "scheduled_at"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_id", "reviewer_id", name="uq_reviews_submission_reviewer"),
    )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("renderer", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("render_values", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("template", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("refs", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until", bot.db.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_deliveries_status_due")
        batch_op.create_index("ix_deliveries_claim", ["status", "priority", "due_at"], unique=False)
        batch_op.create_index("uq_deliveries_broadcast_user", ["broadcast_id", "user_id"], unique=True)
    # the defaults filled existing rows; the models give every new row its values
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("priority", server_default=None)
        batch_op.alter_column("render_values", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("uq_deliveries_broadcast_user")
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.create_index("ix_deliveries_status_due", ["status", "due_at"], unique=False)
        for column in ("claimed_until", "refs", "template", "render_values", "renderer", "priority"):
            batch_op.drop_column(column)
    op.drop_table("reviews")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_status_scheduled")
    op.drop_table("broadcasts")
