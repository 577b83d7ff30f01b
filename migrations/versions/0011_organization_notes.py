"""Organizations carry staff notes; PostgreSQL indexes for admin member search

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-01 09:20:00

Member search asks for an email prefix or any part of a name, newest first. On
PostgreSQL a `text_pattern_ops` index serves the prefix whatever the collation, and a
trigram index (pg_trgm) serves the name; where the extension cannot be created the name
search still works, by scanning. SQLite has neither and needs neither at its sizes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_users_search_email ON users (email text_pattern_ops)")
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return  # not allowed here: name search scans
    op.execute("CREATE INDEX ix_users_search_name ON users USING gin (lower(name) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_users_search_name")
        op.execute("DROP INDEX IF EXISTS ix_users_search_email")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("notes")
