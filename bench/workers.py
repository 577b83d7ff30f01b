"""The read with `folio serve --workers 2` on PostgreSQL (and Redis), measured in one run
against bare Starlette (issue 12).

A temporary `folio_bench_…` database on BENCH_POSTGRES is created, migrated and seeded with
the demo, and dropped afterwards. In turn, BENCH_SECONDS each at BENCH_CONNECTIONS
connections: bare Starlette returning the preview's bytes with one uvicorn worker (R-P1's
(a)) and with two, then the anonymous preview and the entitled full read of the same
report through `folio serve` on that database with one worker and with two. Printed:
req/s, p50, p99, each read's ratio to (a), and to bare Starlette with as many workers.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text

from bench.load import LoadResult, run_load
from bench.run import BIN, CONNECTIONS, ROOT, SECONDS, free_port, prepare, wait_until_up

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"folio_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def redis_settings() -> dict[str, str]:
    """The shared throttle, as a many-worker deployment runs it (reads do not touch it)."""
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        print(f"no Redis at {REDIS_URL} ({exc}): the throttle stays in each worker")
        return {}
    return {
        "FOLIO_REDIS_URL": REDIS_URL,
        "FOLIO_THROTTLE_KEY_PREFIX": f"folio-bench-{uuid.uuid4().hex[:8]}",
    }


def plural(workers: int) -> str:
    return f"{workers} worker" + ("s" if workers > 1 else "")


@contextmanager
def server(args: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    """As bench.run.server, with a longer wait (a loaded machine may take a minute to start
    two workers) and the output kept in FOLIO_DATA_DIR for when it does not come up."""
    log = Path(env["FOLIO_DATA_DIR"]) / f"server-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_up(health_url, timeout=180)
        except RuntimeError:
            print(log.read_text(errors="replace")[-3000:])
            raise
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def folio(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # No access line a request, like the bare servers (bench.run does the same).
    args = [str(BIN / "folio"), "serve", "--no-access-log", "--port", str(port)]
    args += ["--workers", str(workers)]
    with server(args, env, f"{base}/healthz"):
        yield base


@contextmanager
def bare_starlette(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(BIN / "uvicorn"), "--log-level", "warning", "--port", str(port)]
    with server([*args, "--workers", str(workers), "bench.bare:app"], env, f"{base}/preview"):
        yield base


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-workers-"))
    with postgres_database() as database_url:
        env = os.environ | {
            "FOLIO_DATABASE_URL": database_url,
            "FOLIO_ENV": "dev",
            "FOLIO_DATA_DIR": str(workdir),
            "BENCH_BODIES": str(workdir),
            **redis_settings(),
        }
        slug, subscriber = prepare(env)
        url = f"/api/v1/reports/{slug}"
        results: list[LoadResult] = []
        for workers in (1, 2):
            with folio(env, workers) as base:
                token = httpx.post(
                    f"{base}/api/v1/auth/login",
                    data={"username": subscriber, "password": "subscriber-demo-pass"},
                ).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                preview, full = httpx.get(base + url), httpx.get(base + url, headers=auth)
                assert preview.json()["access"] == "preview" and full.json()["access"] == "full"
                if workers == 1:  # bench.bare serves these bytes
                    (workdir / "preview.json").write_bytes(preview.content)
                    (workdir / "full.json").write_bytes(full.content)
                    for bare_workers in (1, 2):
                        with bare_starlette(env, bare_workers) as bare:
                            name = ("(a) " if bare_workers == 1 else "") + "bare Starlette"
                            name += f", {plural(bare_workers)}"
                            results.append(
                                run_load(name, f"{bare}/preview", {}, SECONDS, CONNECTIONS)
                            )
                for name, headers in (("anonymous preview", {}), ("entitled full", auth)):
                    label = f"{name}, PG, {plural(workers)}"
                    results.append(run_load(label, base + url, headers, SECONDS, CONNECTIONS))
    report(results)


def report(results: list[LoadResult]) -> None:
    bare = {1: results[0].requests_per_second, 2: results[1].requests_per_second}
    print(
        f"\nreads on PostgreSQL, {CONNECTIONS} connections, {SECONDS} s each, "
        f"tool: {results[0].tool}"
    )
    header = f"{'target':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(f"{header} {'/ (a)':>6} {'/ bare same workers':>19}")
    for r in results:
        workers = 2 if r.name.endswith("2 workers") else 1
        print(
            f"{r.name:38} {r.requests_per_second:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.errors:7d} {r.requests_per_second / bare[1]:6.2f} "
            f"{r.requests_per_second / bare[workers]:19.2f}"
        )
    by_name = {r.name: r.requests_per_second for r in results}
    for kind, target in (("anonymous preview", 0.5), ("entitled full", 0.4)):
        two, one = by_name[f"{kind}, PG, 2 workers"], by_name[f"{kind}, PG, 1 worker"]
        print(
            f"{kind} with --workers 2: {two / bare[1]:.2f} of (a) (target >= {target}), "
            f"{two / one:.2f}x one worker"
        )


if __name__ == "__main__":
    main()
