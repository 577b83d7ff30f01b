"""SQLite search: a narrow index to check each candidate's visibility without its row

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 12:30:00

Search walks the FTS5 matches newest first and keeps the first RANKED_CANDIDATES that the
viewer may see (app.reports.search). A reports row stores status and publication after the
body, in overflow pages, so reading them from the row costs several page reads per
candidate; this covering index answers them from one. PostgreSQL needs no change: its rows
keep the large text out of line (TOAST), and the search reads status from the heap row.
The name starts with `ix_reports_search`, so the model comparison leaves it out.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE INDEX ix_reports_search_candidates "
            "ON reports (id, status, published_at, collection_id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_reports_search_candidates")
