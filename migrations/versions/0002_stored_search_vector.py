"""PostgreSQL search: a stored tsvector column, so ranking never re-parses report text

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(full_text, '')), 'C')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's FTS5 table already stores its index
    op.execute("DROP INDEX IF EXISTS ix_reports_search")
    op.execute(
        f"ALTER TABLE reports ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )
    op.execute("CREATE INDEX ix_reports_search_vector ON reports USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_reports_search_vector")
    op.execute("ALTER TABLE reports DROP COLUMN IF EXISTS search_vector")
    op.execute(f"CREATE INDEX ix_reports_search ON reports USING gin (({DOCUMENT}))")
