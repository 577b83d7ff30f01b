"""PostgreSQL search: the full text indexed as words without positions (R-A2)

The stored `search_vector` keeps title (A) and summary (B) with positions, and holds the
full text stripped of positions, so no phrase or proximity can be evaluated, or ranked, over
it. The characters with which PostgreSQL's parser joins words into one token (a hyphenated
word, a host, a path, a signed number) or hides them (a tag, an entity) become spaces first,
so the index's words are runs of letters and digits, as the query's are and SQLite's are.
SQLite needs no change: its FTS5 index is only ever asked for single words.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Checked by comparing lexemes over thousands of random word-and-punctuation strings.
WORD_JOINERS = "-./~@:<>&+"


def _words(column: str) -> str:
    spaces = " " * len(WORD_JOINERS)
    return (
        f"to_tsvector('english', translate(coalesce({column}, ''), '{WORD_JOINERS}', '{spaces}'))"
    )


DOCUMENT = (
    f"setweight({_words('title')}, 'A') || "
    f"setweight({_words('summary')}, 'B') || "
    f"strip({_words('full_text')})"
)
PREVIOUS_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(full_text, '')), 'C')"
)


def _store(document: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_reports_search_vector")
    op.execute("ALTER TABLE reports DROP COLUMN IF EXISTS search_vector")
    op.execute(
        f"ALTER TABLE reports ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({document}) STORED"
    )
    op.execute("CREATE INDEX ix_reports_search_vector ON reports USING gin (search_vector)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _store(DOCUMENT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _store(PREVIOUS_DOCUMENT)
