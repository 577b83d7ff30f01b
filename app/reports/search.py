"""Full-text search: SQLite FTS5 or PostgreSQL tsvector; snippets only from allowed text."""

from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlmodel import Session

from app.access import LIVE_STATUSES, Viewer, decide_access
from app.access.loading import load_entitlements
from app.errors import BadRequest
from app.models import Report, UTCDateTime
from app.reports.schemas import SearchHit
from app.reports.service import collection_by_slug, list_item

MAX_QUERY_TERMS = 16
# Private-use characters mark hits inside the database's snippet; the text is escaped after.
HIT_START, HIT_END = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)

# Only constants are interpolated; reader input is always a bound parameter.
# Both queries filter with the access package's live statuses and take `now` as a UTC
# instant typed like the column, so neither dialect needs converting by hand.
_SHARED_PARAMS = (
    bindparam("live_statuses", value=list(LIVE_STATUSES), expanding=True),
    bindparam("now", type_=UTCDateTime()),
    bindparam("staff"),
    bindparam("collection_id"),
)

# Rank first, then make snippets for the page only: in one sorted SELECT, snippet() would
# run for every match before the LIMIT (seconds at 100,000 reports).
_SQLITE_SEARCH = text(f"""
    WITH hits AS (
        SELECT r.id AS id, bm25(reports_fts, 10.0, 4.0, 1.0, 0.0) AS score
        FROM reports_fts JOIN reports r ON r.id = reports_fts.rowid
        WHERE reports_fts MATCH :match
          AND (:staff OR (r.status IN :live_statuses AND r.published_at <= :now))
          AND (:collection_id IS NULL OR r.collection_id = :collection_id)
        ORDER BY score, r.id DESC
        LIMIT :limit
    )
    SELECT hits.id AS id,
           snippet(reports_fts, 3, '{HIT_START}', '{HIT_END}', '…', 24) AS preview_snippet,
           snippet(reports_fts, 2, '{HIT_START}', '{HIT_END}', '…', 24) AS full_snippet
    FROM hits JOIN reports_fts ON reports_fts.rowid = hits.id
    WHERE reports_fts MATCH :match
    ORDER BY hits.score, hits.id DESC
""").bindparams(*_SHARED_PARAMS)

_PG_HEADLINE = (
    f"'StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=30, MinWords=12, "
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "\''
)
# `search_vector` is a stored generated column (migration 0002) with a GIN index.
_PG_SEARCH = text(f"""
    WITH hits AS (
        SELECT r.id, ts_rank(r.search_vector, q.query) AS rank, q.query
        FROM reports r, websearch_to_tsquery('english', :query) AS q(query)
        WHERE r.search_vector @@ q.query
          AND (:staff OR (r.status IN :live_statuses AND r.published_at <= :now))
          AND (CAST(:collection_id AS integer) IS NULL OR r.collection_id = :collection_id)
        ORDER BY rank DESC, r.id DESC
        LIMIT :limit
    )
    SELECT hits.id,
           ts_headline('english', r.preview_text, hits.query, {_PG_HEADLINE}) AS preview_snippet,
           ts_headline('english', r.full_text, hits.query, {_PG_HEADLINE}) AS full_snippet
    FROM hits JOIN reports r ON r.id = hits.id
    ORDER BY hits.rank DESC, hits.id DESC
""").bindparams(*_SHARED_PARAMS)


def fts5_match(query: str) -> str | None:
    """Reader input as FTS5 syntax: every word a quoted term, all required."""
    words = _WORD.findall(query)[:MAX_QUERY_TERMS]
    return " ".join(f'"{w}"' for w in words) if words else None


def highlight(snippet: str) -> str:
    """The database's snippet as safe HTML with <mark> around the hits."""
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(HIT_START, "<mark>").replace(HIT_END, "</mark>")


def search_reports(
    session: Session,
    viewer: Viewer,
    now: datetime,
    query: str,
    *,
    collection: str | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Ranked hits over the full text; each snippet from the preview unless access is full."""
    if "\x00" in query:
        raise BadRequest("The query may not contain NUL characters")
    collection_id = collection_by_slug(session, collection).id if collection else None
    params = {"staff": viewer.is_staff, "now": now, "collection_id": collection_id, "limit": limit}
    if session.get_bind().dialect.name == "sqlite":
        match = fts5_match(query)
        if match is None:
            return []
        rows = session.execute(_SQLITE_SEARCH, {**params, "match": match}).all()
    else:
        rows = session.execute(_PG_SEARCH, {**params, "query": query}).all()
    if not rows:
        return []
    reports = {
        r.id: r
        for r in session.execute(
            select(Report).where(Report.id.in_([row.id for row in rows]))
        ).scalars()
    }
    entitlements = load_entitlements(session, viewer, now)
    hits = []
    for row in rows:
        report = reports[row.id]
        decision = decide_access(report, viewer, entitlements, now)
        snippet = row.full_snippet if decision.full else row.preview_snippet
        hits.append(
            SearchHit(
                **list_item(report, now).model_dump(),
                snippet=highlight(snippet or ""),
                access=decision.access.value,
            )
        )
    return hits
