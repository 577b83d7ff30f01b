"""Outbox emails count the mail server's refusals apart from their attempts

Revision ID: 0019_outbox_refusals
Revises: 0018_reading_groups
Create Date: 2026-12-06 17:00:00

`attempts` counts every pass, those made while the mail server was unreachable included, so
after a long outage the first refusal (a 4xx greylisting answer) failed an email for good.
FOLIO_OUTBOX_MAX_ATTEMPTS now limits `refusals` only. Existing rows start at 0: an email
pending at the upgrade gets the full allowance of refusals again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_outbox_refusals"
down_revision: str | None = "0018_reading_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusals", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("refusals")
