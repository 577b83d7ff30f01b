"""Full-text search: SQLite FTS5 or PostgreSQL tsvector; snippets only from allowed text.

After the cut, search answers one question per query word: is it in the report? A query is
reduced to its words (runs of letters and digits), all of them required, so no phrase,
adjacency, NEAR, prefix, OR, negation or column filter ever reaches the full text.

Ranking is bounded (R-P1): only the newest `RANKED_CANDIDATES` matching reports visible to
the viewer are ranked, not every match. Both databases walk the matches newest first
(SQLite: FTS5's rowid order; PostgreSQL: the primary key backwards, or the GIN index and a
sort when the words are rare) and stop at the bound; the page is the best-ranked of those
candidates.
"""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Boolean, Row, bindparam, text
from sqlmodel import Session

from app.access import (
    LIVE_STATUSES,
    Entitlement,
    Member,
    ReportFacts,
    Viewer,
    decide_access,
)
from app.accounts.throttle import UNKNOWN_IP
from app.errors import BadRequest
from app.holdings import load_entitlements
from app.models import UTCDateTime
from app.reports.schemas import SearchHit
from app.reports.service import collection_by_slug, list_item_of

MAX_QUERY_TERMS = 16
RANKED_CANDIDATES = 1000
"""How many matching reports a search ranks: the newest this many (by id, the order reports
were created in) that the viewer may see. A word found in more reports than this returns
the best-ranked of the newest ones; an older report is still found by any query that
matches fewer reports than this (a rarer word, or more words)."""
# Private-use characters mark hits inside the database's snippet; the text is escaped after.
HIT_START, HIT_END = "\ue000", "\ue001"

# Only constants are interpolated; reader input is always a bound parameter.
# Both queries filter with the access package's live statuses and take `now` as a UTC
# instant typed like the column, so neither dialect needs converting by hand.
_SHARED_PARAMS = (
    bindparam("live_statuses", value=list(LIVE_STATUSES), expanding=True),
    bindparam("now", type_=UTCDateTime()),
    bindparam("staff"),
    bindparam("collection_id"),
)

# Both rank statements end by reading the page's hits: what a list item shows and what the
# access decision reads (app.access.ReportFacts), with the tags, in the same round trip.
_HIT_COLUMNS = """r.id, r.slug, r.title, r.summary, c.slug AS collection, r.published_at,
           r.access_level, r.complimentary, r.free_after, r.collection_id, r.status"""
_HIT_TYPES = {"published_at": UTCDateTime, "free_after": UTCDateTime, "complimentary": Boolean}

# bm25 reads term counts, never positions, so ranking says nothing about word order; the
# full text has no weight, so it says nothing about how often a word occurs after the cut
# either (the preview, title and summary rank, as on PostgreSQL with its stripped vector).
# The candidates are read newest first from the FTS5 index (rowid order, no sort) and the
# scan stops at the bound; only they are ranked. Visibility is checked through a narrow
# covering index (migration 0013): the reports row itself keeps status and publication after
# the body, in overflow pages. One cost still grows with the matches: bm25 counts each word's
# documents once per query (one pass over its posting list, ~2 ms for a word in all of
# 100,000 reports on the 2-core bench machine, so ~2 ms more per such word in a query).
_SQLITE_RANK = (
    text(f"""
    WITH candidates AS MATERIALIZED (
        SELECT r.id AS id, bm25(reports_fts, 10.0, 4.0, 0.0, 1.0) AS score
        FROM reports_fts
        JOIN reports r INDEXED BY ix_reports_search_candidates ON r.id = reports_fts.rowid
        WHERE reports_fts MATCH :match
          AND (:staff OR (r.status IN :live_statuses AND r.published_at <= :now))
          AND (:collection_id IS NULL OR r.collection_id = :collection_id)
        ORDER BY reports_fts.rowid DESC
        LIMIT :candidates
    ),
    page AS MATERIALIZED (
        SELECT id, score FROM candidates ORDER BY score, id DESC LIMIT :limit
    )
    SELECT {_HIT_COLUMNS},
           (SELECT json_group_array(t.tag) FROM report_tags t WHERE t.report_id = r.id) AS tags
    FROM page
    JOIN reports r ON r.id = page.id
    JOIN collections c ON c.id = r.collection_id
    ORDER BY page.score, page.id DESC
""")
    .bindparams(*_SHARED_PARAMS)
    .columns(**_HIT_TYPES)
)

# Snippets for the page only, each from the column the viewer may read (3 = preview_text,
# 2 = full_text): the full text is never even cut into a snippet for a preview reader.
_SQLITE_SNIPPETS = text(f"""
    SELECT CAST(page.key AS INTEGER) AS id,
           snippet(reports_fts, page.value, '{HIT_START}', '{HIT_END}', '…', 24) AS snippet
    FROM json_each(:page) AS page
    CROSS JOIN reports_fts ON reports_fts.rowid = CAST(page.key AS INTEGER)
    WHERE reports_fts MATCH :match
""")
_SQLITE_PREVIEW_COLUMN, _SQLITE_FULL_COLUMN = 3, 2

# `search_vector` (migration 0003) holds title and summary with positions and the full text
# stripped of them, so ts_rank cannot weigh how close the words stand after the cut.
# The candidates are the newest matches: for common words PostgreSQL walks the primary key
# backwards and stops at the bound, for rare ones it reads the GIN index and sorts the few
# matches; either way only the candidates are ranked.
_PG_RANK = (
    text(f"""
    WITH candidates AS MATERIALIZED (
        SELECT r.id, r.search_vector
        FROM reports r
        WHERE r.search_vector @@ plainto_tsquery('english', :words)
          AND (:staff OR (r.status IN :live_statuses AND r.published_at <= :now))
          AND (CAST(:collection_id AS integer) IS NULL OR r.collection_id = :collection_id)
        ORDER BY r.id DESC
        LIMIT :candidates
    ),
    page AS MATERIALIZED (
        SELECT c.id, ts_rank(c.search_vector, q.query) AS score
        FROM candidates c, plainto_tsquery('english', :words) AS q(query)
        ORDER BY score DESC, c.id DESC
        LIMIT :limit
    )
    SELECT {_HIT_COLUMNS},
           ARRAY(SELECT t.tag FROM report_tags t WHERE t.report_id = r.id ORDER BY t.tag) AS tags
    FROM page
    JOIN reports r ON r.id = page.id
    JOIN collections c ON c.id = r.collection_id
    ORDER BY page.score DESC, page.id DESC
""")
    .bindparams(*_SHARED_PARAMS)
    .columns(**_HIT_TYPES)
)
# Which of those two plans fits depends on the words, so the statement is planned for its
# own words every time: a prepared statement's generic plan (psycopg prepares after five
# runs) cannot know how common they are and would pick one plan for all.
_PG_CUSTOM_PLAN = text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")

_PG_HEADLINE = (
    f"'StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=30, MinWords=12, "
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "\''
)
_PG_SNIPPETS = text(f"""
    SELECT r.id,
           ts_headline('english',
                       CASE WHEN page.full_access THEN r.full_text ELSE r.preview_text END,
                       plainto_tsquery('english', :words), {_PG_HEADLINE}) AS snippet
    FROM unnest(CAST(:ids AS integer[]), CAST(:full AS boolean[])) AS page(id, full_access)
    JOIN reports r ON r.id = page.id
""")


def _facts(row: Row) -> ReportFacts:
    return ReportFacts(
        access_level=row.access_level,
        complimentary=row.complimentary,
        free_after=row.free_after,
        collection_id=row.collection_id,
        status=row.status,
        published_at=row.published_at,
    )


def _is_word_character(char: str) -> bool:
    # A letter or digit now and already in Unicode 3.2: a token character of FTS5's
    # unicode61 tables whatever their version, so a query word is never split into a phrase.
    return unicodedata.category(char)[0] in "LN" and (
        unicodedata.ucd_3_2_0.category(char)[0] in "LN"
    )


def query_words(query: str) -> list[str]:
    """The query's distinct words, in order: runs of letters and digits, at most 16."""
    words: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFC", query) + " ":
        if _is_word_character(char):
            current.append(char)
        elif current:
            word = "".join(current)
            current = []
            if word.casefold() not in (w.casefold() for w in words):
                words.append(word)
    return words[:MAX_QUERY_TERMS]


def fts5_match(words: list[str]) -> str:
    """Every word a quoted single-token term, all required (FTS5's implicit AND)."""
    return " ".join(f'"{word}"' for word in words)


def highlight(snippet: str) -> str:
    """The database's snippet as safe HTML with <mark> around the hits."""
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(HIT_START, "<mark>").replace(HIT_END, "</mark>")


def search_client_key(viewer: Viewer) -> str:
    """Searches are counted per member, and per client IP for everyone else."""
    if isinstance(viewer, Member):
        return f"member:{viewer.id}"
    return f"ip:{viewer.client_ip or UNKNOWN_IP}"


def search_reports(
    session: Session,
    viewer: Viewer,
    now: datetime,
    query: str,
    *,
    collection: str | None = None,
    limit: int = 20,
    candidates: int | None = None,
    entitlements_of: Callable[[Session, Viewer, datetime], list[Entitlement]] = load_entitlements,
) -> list[SearchHit]:
    """Ranked hits over every word of the report; each snippet from the preview unless
    the viewer has full access to that report. Only the newest `candidates` matches
    (default `RANKED_CANDIDATES`) are ranked. `entitlements_of` reads what the viewer
    holds (the route passes the worker's kept copy, app.holdings_cache)."""
    if "\x00" in query:
        raise BadRequest("The query may not contain NUL characters")
    collection_id = collection_by_slug(session, collection).id if collection else None
    words = query_words(query)
    if not words:
        return []
    params = {
        "staff": viewer.is_staff,
        "now": now,
        "collection_id": collection_id,
        "limit": limit,
        "candidates": candidates or RANKED_CANDIDATES,
    }
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        match = fts5_match(words)
        ranked = session.execute(_SQLITE_RANK, {**params, "match": match}).all()
        # BINARY collation orders by code point, as sorted() does: PostgreSQL's ORDER BY.
        tags = {row.id: sorted(json.loads(row.tags)) for row in ranked}
    else:
        session.execute(_PG_CUSTOM_PLAN)
        ranked = session.execute(_PG_RANK, {**params, "words": " ".join(words)}).all()
        tags = {row.id: row.tags for row in ranked}
    if not ranked:
        return []
    ids = [row.id for row in ranked]
    facts = {row.id: _facts(row) for row in ranked}
    entitlements = entitlements_of(session, viewer, now)
    decisions = {id_: decide_access(facts[id_], viewer, entitlements, now) for id_ in ids}
    if sqlite:
        page = {
            str(id_): _SQLITE_FULL_COLUMN if decision.full else _SQLITE_PREVIEW_COLUMN
            for id_, decision in decisions.items()
        }
        found = session.execute(_SQLITE_SNIPPETS, {"page": json.dumps(page), "match": match})
    else:
        full = [decisions[id_].full for id_ in ids]
        found = session.execute(
            _PG_SNIPPETS, {"ids": list(ids), "full": full, "words": " ".join(words)}
        )
    snippets = {row.id: row.snippet for row in found}
    return [
        SearchHit(
            **list_item_of(row, row.collection, tags[row.id], now).model_dump(),
            snippet=highlight(snippets.get(row.id) or ""),
            access=decisions[row.id].access.value,
        )
        for row in ranked
    ]
