"""Admin member search at 1,000,000 members on PostgreSQL (R-P1: p95 under 100 ms).

A data generator, not a timed test: a fresh database is migrated, filled with members
(3 % paying through Stripe, 1 % with a comp, a few hundred licensed email domains), then
one client asks `GET /api/v1/admin/users` in turn for an email prefix, a name word and
each status filter, through `folio serve`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid

import httpx
from sqlalchemy import create_engine, text

from bench.run import BIN, ROOT, free_port, server

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000000"))
QUERIES = int(os.environ.get("BENCH_MEMBER_QUERIES", "100"))
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@folio.test", "bench admin passphrase"
DOMAINS = 5000  # member email domains; one in 25 is licensed to an organization
FIRST = [
    "ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "donald",
    "frances",
    "john",
    "margaret",
    "katherine",
    "dennis",
    "ken",
    "linus",
    "guido",
    "bjarne",
    "james",
    "radia",
    "shafi",
    "tim",
    "vint",
    "leslie",
    "niklaus",
    "sophie",
    "anita",
    "hedy",
]
LAST = [
    "lovelace",
    "hopper",
    "turing",
    "dijkstra",
    "liskov",
    "knuth",
    "allen",
    "mccarthy",
    "hamilton",
    "johnson",
    "ritchie",
    "thompson",
    "torvalds",
    "rossum",
    "stroustrup",
    "gosling",
    "perlman",
    "goldwasser",
    "lee",
    "cerf",
    "lamport",
    "wirth",
    "wilson",
    "borg",
    "lamarr",
    "brewster",
]

FILL = """
INSERT INTO users (email, name, role, disabled, created_at, email_verified_at)
SELECT
    f.first || '.' || l.last || n || '@d' || (n % :domains) || '.example',
    initcap(f.first) || ' ' || initcap(l.last),
    'reader',
    n % 97 = 0,
    now() - make_interval(mins => :members - n),
    CASE WHEN n % 10 = 0 THEN NULL ELSE now() END
FROM generate_series(1, :members) AS n
CROSS JOIN LATERAL (SELECT (CAST(:first AS text[]))[1 + n % :firsts] AS first) f
CROSS JOIN LATERAL (SELECT (CAST(:last AS text[]))[1 + (n / 7) % :lasts] AS last) l
"""


def load(database_url: str) -> None:
    env = os.environ | {"FOLIO_DATABASE_URL": database_url}
    for command in (["migrate"], ["create-admin", ADMIN_EMAIL, "--password", ADMIN_PASSWORD]):
        subprocess.run(
            [str(BIN / "folio"), *command],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    engine = create_engine(database_url)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(FILL),
            {
                "members": MEMBERS,
                "domains": DOMAINS,
                "first": FIRST,
                "last": LAST,
                "firsts": len(FIRST),
                "lasts": len(LAST),
            },
        )
        connection.execute(
            text(
                "INSERT INTO tiers (slug, name, description, all_collections, active, created_at) "
                "VALUES ('bench', 'Bench', '', true, true, now())"
            )
        )
        tier = connection.execute(text("SELECT id FROM tiers WHERE slug = 'bench'")).scalar_one()
        for source, status, every in (("stripe", "active", 33), ("comp", "active", 101)):
            connection.execute(
                text(
                    "INSERT INTO subscriptions (user_id, tier_id, source, status, "
                    "current_period_end, cancel_at_period_end, note, created_at, updated_at) "
                    "SELECT id, :tier, :source, :status, now() + interval '20 days', false, '', "
                    "now(), now() FROM users WHERE id % :every = 0"
                ),
                {"tier": tier, "source": source, "status": status, "every": every},
            )
        for org in range(DOMAINS // 50):
            domains = [f"d{org * 25}.example", f"d{org * 25 + 1}.example"]
            connection.execute(
                text(
                    "INSERT INTO organizations (name, tier_id, email_domains, ip_ranges, notes, "
                    "created_at, updated_at) VALUES (:name, :tier, CAST(:domains AS json), "
                    "CAST('[]' AS json), '', now(), now())"
                ),
                {"name": f"Org {org}", "tier": tier, "domains": str(domains).replace("'", '"')},
            )
        connection.execute(text("ANALYZE"))
    engine.dispose()
    print(f"loaded {MEMBERS} members in {time.perf_counter() - started:.0f} s")


QUERY_SET = (
    ("email prefix", {"q": "grace.hopper7"}),
    ("full email", {"q": "hedy.rossum999999@d4999.example"}),
    ("name word", {"q": "brewster"}),
    ("status=paid", {"status": "paid"}),
    ("status=comp", {"status": "comp"}),
    ("status=org", {"status": "org"}),
    ("status=free", {"status": "free"}),
    ("status=disabled", {"status": "disabled"}),
    ("name + status", {"q": "lamarr", "status": "paid"}),
)


def measure(database_url: str) -> list[tuple[str, float, float, int]]:
    load(database_url)
    env = os.environ | {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_ENV": "dev",
        "FOLIO_OUTBOX_SENDER": "off",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results = []
    with (
        server([str(BIN / "folio"), "serve", "--port", str(port)], env, f"{base}/healthz"),
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        login = client.post(
            "/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for label, params in QUERY_SET:
            first = client.get("/api/v1/admin/users", params=params, headers=headers)
            assert first.status_code == 200, first.text
            found = len(first.json()["items"])
            timings = []
            for _ in range(QUERIES):
                started = time.perf_counter()
                response = client.get("/api/v1/admin/users", params=params, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            cuts = statistics.quantiles(timings, n=100)
            results.append((label, cuts[49], cuts[94], found))
    return results


def main() -> None:
    name = f"folio_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        rows = measure(f"{POSTGRES_SERVER}/{name}")
    finally:
        if not os.environ.get("BENCH_KEEP_DATABASE"):
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            print(f"kept database {name}")
    print(
        f"\nadmin member search over {MEMBERS} members on PostgreSQL, "
        f"{QUERIES} sequential queries each (target p95 < 100 ms)"
    )
    print(f"{'query':18} {'p50 ms':>8} {'p95 ms':>8} {'rows':>5}")
    for label, p50, p95, found in rows:
        print(f"{label:18} {p50:8.1f} {p95:8.1f} {found:5}")


if __name__ == "__main__":
    main()
