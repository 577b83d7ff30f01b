"""`make bench`: Folio's reads against a bare Starlette endpoint, measured in one run.

(a) bare Starlette returning the bytes of (c); (b) a bare FastAPI route returning the same
bytes (the framework's own ceiling); (c) the anonymous preview read; (d) the entitled full
read of the same report; (e) and (f) the same two reads from a second Folio with the usage
ledger off (FOLIO_USAGE_RECORDING=false), so recording's cost is measured in the same run.
Prints req/s, p50, p99 and each one's ratio to (a) (R-P1), and on/off for (c)-(f).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.load import LoadResult, run_load
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def server(args: list[str], env: dict[str, str], health_url: str):  # type: ignore[no-untyped-def]
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_up(health_url)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrated, seeded database; returns (a subscribers report's slug, a subscriber's email)."""
    for command in (["migrate"], ["seed-demo"]):
        subprocess.run(
            [str(BIN / "folio"), *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
    return "drone-procurement-sahel-2026", "subscriber@example.com"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-"))
    env = os.environ | {
        "FOLIO_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "FOLIO_ENV": "dev",
        "FOLIO_DATA_DIR": str(workdir),
        "BENCH_BODIES": str(workdir),
    }
    slug, subscriber = prepare(env)
    folio_port, quiet_port = free_port(), free_port()
    bare_port, fastapi_port = free_port(), free_port()
    folio = f"http://127.0.0.1:{folio_port}"
    quiet = f"http://127.0.0.1:{quiet_port}"
    bare = f"http://127.0.0.1:{bare_port}"
    bare_fastapi = f"http://127.0.0.1:{fastapi_port}"
    # Like the bare servers, Folio writes no access line a request (an operator's choice).
    serve = [str(BIN / "folio"), "serve", "--no-access-log", "--port"]
    uvicorn = [str(BIN / "uvicorn"), "--log-level", "warning", "--port"]
    unrecorded = env | {"FOLIO_USAGE_RECORDING": "false"}
    with (
        server([*serve, str(folio_port)], env, f"{folio}/healthz"),
        server([*serve, str(quiet_port)], unrecorded, f"{quiet}/healthz"),
    ):
        token = httpx.post(
            f"{folio}/api/v1/auth/login",
            data={"username": subscriber, "password": "subscriber-demo-pass"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        preview = httpx.get(f"{folio}/api/v1/reports/{slug}")
        full = httpx.get(f"{folio}/api/v1/reports/{slug}", headers=auth)
        assert preview.json()["access"] == "preview" and full.json()["access"] == "full"
        assert httpx.get(f"{quiet}/api/v1/reports/{slug}", headers=auth).content == full.content
        (workdir / "preview.json").write_bytes(preview.content)
        (workdir / "full.json").write_bytes(full.content)
        with (
            server([*uvicorn, str(bare_port), "bench.bare:app"], env, f"{bare}/preview"),
            server(
                [*uvicorn, str(fastapi_port), "bench.bare:fastapi_app"],
                env,
                f"{bare_fastapi}/preview",
            ),
        ):
            targets = [
                ("(a) bare Starlette, same bytes as (c)", f"{bare}/preview", {}),
                ("(b) bare FastAPI route, same bytes", f"{bare_fastapi}/preview", {}),
                ("(c) anonymous preview read", f"{folio}/api/v1/reports/{slug}", {}),
                ("(d) entitled full read", f"{folio}/api/v1/reports/{slug}", auth),
                ("(e) (c) with recording off", f"{quiet}/api/v1/reports/{slug}", {}),
                ("(f) (d) with recording off", f"{quiet}/api/v1/reports/{slug}", auth),
            ]
            results = [
                run_load(name, url, headers, SECONDS, CONNECTIONS) for name, url, headers in targets
            ]
    report(results)


def report(results: list[LoadResult]) -> None:
    print(f"\nreads, {CONNECTIONS} connections, {SECONDS} s each, tool: {results[0].tool}")
    print(f"{'target':42} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'/ (a)':>6}")
    bare = results[0].requests_per_second
    for r in results:
        print(
            f"{r.name:42} {r.requests_per_second:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.errors:7d} {r.requests_per_second / bare:6.2f}"
        )
    print(f"\n(c)/(a) preview ratio: {results[2].requests_per_second / bare:.2f}  (target >= 0.5)")
    print(f"(d)/(a) full ratio:    {results[3].requests_per_second / bare:.2f}  (target >= 0.4)")
    print(f"p99 target: under 50 ms at {CONNECTIONS} connections")
    preview_cost = results[2].requests_per_second / results[4].requests_per_second
    full_cost = results[3].requests_per_second / results[5].requests_per_second
    print(f"recording on / off: preview {preview_cost:.2f}, full {full_cost:.2f}  (target >= 0.90)")


if __name__ == "__main__":
    main()
