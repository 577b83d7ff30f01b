"""Metered reading: the subscribers reports each verified reader read for free

Revision ID: 0017_meter
Revises: 0016_usage_admin
Create Date: 2026-12-01 16:00:00

One row per (reader, report); the rolling 30-day window is counted from `read_at`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0017_meter"
down_revision: str | None = "0016_usage_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meter_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_meter_reads_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_meter_reads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_reads")),
        sa.UniqueConstraint("user_id", "report_id", name=op.f("uq_meter_reads_user_id_report_id")),
    )


def downgrade() -> None:
    op.drop_table("meter_reads")
