"""Webhook ingestion: signed subscription events per second on SQLite and PostgreSQL.

Each event is signed, verified, recorded in the ledger and applied (a new subscription,
matched to a user, audited), through `folio serve` over real HTTP.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from bench.run import BIN, ROOT, free_port, server
from tests.support import stripe_events as se

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_WEBHOOK_CONCURRENCY", "16"))
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")


async def _send_all(url: str, bodies: list[bytes]) -> tuple[float, int]:
    queue = list(reversed(bodies))
    failures = 0
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while queue:
                body = queue.pop()
                response = await client.post(
                    url,
                    content=body,
                    headers={"Stripe-Signature": se.sign(body), "Content-Type": "application/json"},
                )
                failures += response.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - start, failures


def measure(database_url: str) -> tuple[float, int]:
    env = os.environ | {
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_ENV": "dev",
        "FOLIO_STRIPE_WEBHOOK_SECRET": se.WEBHOOK_SECRET,
    }
    for command in (["migrate"], ["seed-demo"]):
        subprocess.run(
            [str(BIN / "folio"), *command],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The demo reader (id 2) subscribes over and over: one new subscription per event.
    bodies = [
        se.event(
            "customer.subscription.created",
            se.subscription(
                f"sub_bench_{n}",
                customer=f"cus_bench_{n}",
                price="price_demo_threat_analyst_month",
                user_id=2,
            ),
        )
        for n in range(EVENTS)
    ]
    with server([str(BIN / "folio"), "serve", "--port", str(port)], env, f"{base}/healthz"):
        seconds, failures = asyncio.run(_send_all(f"{base}/webhooks/stripe", bodies))
    return EVENTS / seconds, failures


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="folio-bench-webhooks-"))
    rows = [("SQLite", *measure(f"sqlite:///{workdir / 'hooks.db'}"))]
    name = f"folio_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        rows.append(("PostgreSQL", *measure(f"{POSTGRES_SERVER}/{name}")))
    except Exception as exc:  # noqa: BLE001  (no PostgreSQL here: report SQLite alone)
        print(f"PostgreSQL skipped: {exc}")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"\nwebhook ingestion, {EVENTS} signed events, {CONCURRENCY} concurrent, one worker")
    print(f"{'database':12} {'events/s':>9} {'failures':>9}")
    for database, rate, failures in rows:
        print(f"{database:12} {rate:9.0f} {failures:9d}")


if __name__ == "__main__":
    main()
