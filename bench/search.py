"""Search latency with 100,000 reports (R-P1: p95 under 50 ms), SQLite and PostgreSQL.

Reports are bulk-inserted with renderings made once by the real renderer; then one client
asks `GET /api/v1/search` in turn for a rare word, a common word and a two-word query.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text

from app.content import render_report
from bench.run import BIN, ROOT, free_port, server

REPORTS = int(os.environ.get("BENCH_SEARCH_REPORTS", "100000"))
QUERIES = int(os.environ.get("BENCH_SEARCH_QUERIES", "200"))
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
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
                        "created_at": at,
                        "updated_at": at,
                        **bodies[n % len(bodies)],
                    }
                )
            connection.execute(insert(Report), rows)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ANALYZE reports"))
    engine.dispose()


def measure(database_url: str) -> list[tuple[str, float, float]]:
    load(database_url)
    env = os.environ | {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_ENV": "dev",
        "FOLIO_OUTBOX_SENDER": "off",
        # One client asks hundreds of times a minute: the per-client limit is not measured here.
        "FOLIO_SEARCH_REQUESTS_PER_MINUTE": "1000000",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results = []
    with (
        server([str(BIN / "folio"), "serve", "--port", str(port)], env, f"{base}/healthz"),
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        for label, query in (
            ("rare word", "uniq7"),
            ("common word", "drone"),
            ("two words", "ransomware hospital"),
        ):
            client.get("/api/v1/search", params={"q": query})
            timings = []
            for _ in range(QUERIES):
                started = time.perf_counter()
                response = client.get("/api/v1/search", params={"q": query})
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200 and response.json()["items"]
            cuts = statistics.quantiles(timings, n=100)
            results.append((label, cuts[49], cuts[94]))
    return results


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-search-"))
    rows = [("SQLite", measure(f"sqlite:///{workdir / 'search.db'}"))]
    name = f"folio_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        rows.append(("PostgreSQL", measure(f"{POSTGRES_SERVER}/{name}")))
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: report SQLite alone)
        print(f"PostgreSQL skipped: {exc}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(
        f"\nsearch over {REPORTS} reports, {QUERIES} sequential queries each (target p95 < 50 ms)"
    )
    print(f"{'database':12} {'query':14} {'p50 ms':>8} {'p95 ms':>8}")
    for database, results in rows:
        for label, p50, p95 in results:
            print(f"{database:12} {label:14} {p50:8.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
