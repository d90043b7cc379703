"""an update's replies on its journal row, written in the handler's transaction: a process killed after it
handled an update and before it answered sends the answer on restart, instead of losing it or handling the
update a second time

Revision ID: 0007_update_replies
Revises: 0006_workers
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_update_replies"
down_revision = "0006_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("processed_updates", sa.Column("replies", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("processed_updates", "replies")
