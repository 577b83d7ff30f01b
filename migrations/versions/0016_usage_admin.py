"""Turnaways by verified email domain, per month and report (the admin's lead list)

Revision ID: 0016_usage_admin
Revises: 0015_usage
Create Date: 2026-12-01 15:55:00

Readers no organization covers are in usage_monthly nowhere; their denials are kept here by
domain only, so the lead list outlives the raw events' retention.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0016_usage_admin"
down_revision: str | None = "0015_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_domain_turnaways",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("reader_domain", sa.String(length=253), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("no_license", sa.Integer(), nullable=False),
        sa.Column("limit_exceeded", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_usage_domain_turnaways_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_domain_turnaways")),
        sa.UniqueConstraint(
            "month",
            "reader_domain",
            "report_id",
            name=op.f("uq_usage_domain_turnaways_month_reader_domain_report_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("usage_domain_turnaways")
