"""Reading events: one row per group of identical reads (first_at, repeats)

Revision ID: 0018_reading_groups
Revises: 0017_meter
Create Date: 2026-12-06 17:10:00

The recorder folds identical reads noted within one flush (same report, decision, viewer,
user agent and day, no gap over 30 s) into one row: `occurred_at` is the last read,
`first_at` the first (NULL when the row is a single read), `repeats` how many. Existing
rows are single reads: NULL and 1.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0018_reading_groups"
down_revision: str | None = "0017_meter"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reading_events") as batch:
        batch.add_column(sa.Column("first_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("repeats", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )


def downgrade() -> None:
    with op.batch_alter_table("reading_events") as batch:
        batch.drop_column("repeats")
        batch.drop_column("first_at")
