"""Search latency with 100,000 reports (R-P1: p95 under 50 ms), SQLite and PostgreSQL.

Reports are bulk-inserted with renderings made once by the real renderer; then one client
asks `GET /api/v1/search` for a rare word, a word in every report, two such words, the
same two as a quoted phrase (searched as its words) and a rare word with a common one.

Two servers share each database and are asked in turn, query by query: Folio as it is
(ranking the newest `RANKED_CANDIDATES` matches) and the same code ranking every match, as
search did before the bound, so the ratio comes from one run on the same data.
Set BENCH_SEARCH_SQLITE (a file) or BENCH_SEARCH_POSTGRES_DB (a database name on
BENCH_POSTGRES) to measure an already loaded database again instead of building one.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, insert, select, text

from app.content import RENDER_VERSION, render_report
from app.reports.search import RANKED_CANDIDATES
from bench.run import BIN, ROOT, free_port, wait_until_up

REPORTS = int(os.environ.get("BENCH_SEARCH_REPORTS", "100000"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "200"))
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
SQLITE_FILE = os.environ.get("BENCH_SEARCH_SQLITE")
POSTGRES_DB = os.environ.get("BENCH_SEARCH_POSTGRES_DB")
QUERIES_BY_KIND = (
    ("rare word", "uniq7"),  # in 1 report of 50
    ("word in every report", "drone"),
    ("two words", "ransomware hospital"),  # both in every report
    ("phrase", '"ransomware hospital"'),  # searched as its two words
    ("rare + common", "uniq7 drone"),
)
# The same server, ranking every match (search before the bound): `folio serve` with the
# bound lifted, in a process of its own.
UNBOUNDED = (
    "import app.reports.search as s; s.RANKED_CANDIDATES = 10**9; from app.cli import main; main()"
)
WORDS = [
    "drone",
    "procurement",
    "ransomware",
    "hospital",
    "cable",
    "satellite",
    "jamming",
    "port",
    "grid",
    "substation",
    "militia",
    "crypto",
    "exchange",
    "disinformation",
    "channel",
    "election",
    "broker",
    "utility",
    "shipping",
    "aviation",
    "sabotage",
    "insurgent",
    "logistics",
    "border",
    "smuggling",
    "financing",
]


def _bodies() -> list[dict]:
    rng = random.Random(7)
    rendered = []
    for n in range(50):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(6)]
        body = "\n\n".join(paragraphs[:2] + ["<!-- paywall -->"] + paragraphs[2:])
        body += f"\n\nA marker word uniq{n}.[^1]\n\n[^1]: Bulletin {n}, 2026."
        out = render_report(body)
        rendered.append(
            {
                "body": body,
                "full_html": out.full_html,
                "preview_html": out.preview_html,
                "full_footnotes": [asdict(f) for f in out.full_footnotes],
                "preview_footnotes": [asdict(f) for f in out.preview_footnotes],
                "full_text": out.full_text,
                "preview_text": out.preview_text,
            }
        )
    return rendered


def load(database_url: str) -> None:
    """Migrates, then inserts REPORTS reports unless the database already has them."""
    from app.db import build_engine
    from app.models import Collection, Report

    env = os.environ | {"FOLIO_DATABASE_URL": database_url}
    subprocess.run(
        [str(BIN / "folio"), "migrate"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = build_engine(database_url)
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(Report)).scalar_one():
            engine.dispose()
            return
    bodies = _bodies()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(Collection),
            [{"slug": "bench", "name": "Bench", "description": "", "created_at": start}],
        )
        collection_id = connection.execute(select(Collection.id)).scalar_one()
        for chunk in range(0, REPORTS, 5000):
            rows = []
            for n in range(chunk, min(chunk + 5000, REPORTS)):
                at = start + timedelta(minutes=n)
                rows.append(
                    {
                        "slug": f"r{n}",
                        "title": f"Report {n} on {WORDS[n % len(WORDS)]}",
                        "summary": "A summary.",
                        "collection_id": collection_id,
                        "access_level": "subscribers",
                        "complimentary": False,
                        "status": "published",
                        "published_at": at,
                        "authors": [],
                        "render_warnings": [],
                        "render_version": RENDER_VERSION,
                        "created_at": at,
                        "updated_at": at,
                        **bodies[n % len(bodies)],
                    }
                )
            connection.execute(insert(Report), rows)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reports"))
    engine.dispose()


@contextmanager
def _server(args: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    # As bench.run.server, with a longer wait: two servers start at once on a busy machine.
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(health_url, timeout=180)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _timings(client: httpx.Client, query: str) -> list[float]:
    timings = []
    for _ in range(QUERIES // 2):
        started = time.perf_counter()
        response = client.get("/api/v1/search", params={"q": query})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and response.json()["items"], response.text
    return timings


def _cuts(timings: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49], cuts[94]


def measure(database_url: str) -> list[tuple[str, float, float, float, float]]:
    """(query kind, p50 and p95 ranking every match, p50 and p95 ranking the newest)."""
    load(database_url)
    env = os.environ | {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_ENV": "dev",
        "FOLIO_OUTBOX_SENDER": "off",
        # One client asks hundreds of times a minute: the per-client limit is not measured here.
        "FOLIO_SEARCH_REQUESTS_PER_MINUTE": "1000000",
    }
    bounded_port, unbounded_port = free_port(), free_port()
    bounded, unbounded = (f"http://127.0.0.1:{p}" for p in (bounded_port, unbounded_port))
    serve = ["serve", "--port"]
    results = []
    with (
        _server([str(BIN / "folio"), *serve, str(bounded_port)], env, f"{bounded}/healthz"),
        _server(
            [str(BIN / "python"), "-c", UNBOUNDED, *serve, str(unbounded_port)],
            env,
            f"{unbounded}/healthz",
        ),
        httpx.Client(base_url=bounded, timeout=30) as new,
        httpx.Client(base_url=unbounded, timeout=30) as old,
    ):
        for label, query in QUERIES_BY_KIND:
            for client in (old, new):
                for _ in range(3):
                    client.get("/api/v1/search", params={"q": query})
            # In turn, half the queries at a time, so both see the same machine load.
            old_timings = _timings(old, query)
            new_timings = _timings(new, query)
            old_timings += _timings(old, query)
            new_timings += _timings(new, query)
            results.append((label, *_cuts(old_timings), *_cuts(new_timings)))
            print(database_url.split(":")[0], *results[-1], sep="\t", file=sys.stderr, flush=True)
    return results


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-search-"))
    sqlite_file = SQLITE_FILE or workdir / "search.db"
    rows = [("SQLite", measure(f"sqlite:///{sqlite_file}"))]
    name = POSTGRES_DB or f"folio_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        if not POSTGRES_DB:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        rows.append(("PostgreSQL", measure(f"{POSTGRES_SERVER}/{name}")))
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: report SQLite alone)
        print(f"PostgreSQL skipped: {exc}")
    finally:
        if not POSTGRES_DB:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(
        f"\nsearch over {REPORTS} reports, {QUERIES} sequential queries each"
        f" (target p95 < 50 ms); 'every match' ranks all matches (before),"
        f" 'newest {RANKED_CANDIDATES}' ranks the newest {RANKED_CANDIDATES} (now)"
    )
    print(
        f"{'database':11} {'query':21} {'every match p50':>15} {'p95':>6}"
        f" {'newest p50':>11} {'p95':>6} {'p95 ratio':>9}"
    )
    for database, results in rows:
        for label, old50, old95, new50, new95 in results:
            print(
                f"{database:11} {label:21} {old50:15.1f} {old95:6.1f}"
                f" {new50:11.1f} {new95:6.1f} {new95 / old95:9.2f}"
            )


if __name__ == "__main__":
    main()
