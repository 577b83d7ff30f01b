"""Reports record which renderer stored their HTML and preview

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:30:00

Existing rows get 0, so the next `folio migrate` renders them again under the current cut
rules (app.content.RENDER_VERSION): a preview stored before a leak was closed does not keep
leaking after the upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("render_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("render_version")
