"""Workers on several hosts: each its own FOLIO_DATA_DIR, one database and one Redis.

A generation file is seen only by the workers of its host, so a bump reaches the other
hosts through Redis (app.generation_relay). Two real `folio serve` processes with different
data directories play two hosts: what one writes, the other honours on its next request
(R-A1), the anonymous preview it keeps included. Without Redis they would keep serving
what they kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.reports.test_holdings_cache import SLUG, revocations_are_honoured_by_the_other_worker
from tests.scale.reports import BODY, subscribers_report
from tests.support import stripe_events as se
from tests.support.app import Account, Catalog
from tests.support.redis_prefix import REDIS_URL, redis_prefix
from tests.support.served import served

START_SECONDS = 180  # importing the app on a machine busy with the rest of the suite


@pytest.fixture
def hosts(tmp_path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two `folio serve` processes sharing the database and Redis, not a data directory."""
    with redis_prefix() as run, ExitStack() as stack:
        env = {
            "FOLIO_REDIS_URL": REDIS_URL,
            "FOLIO_GENERATION_CHANNEL": f"{run}-generations",
            "FOLIO_THROTTLE_KEY_PREFIX": run,
            "FOLIO_STRIPE_WEBHOOK_SECRET": se.WEBHOOK_SECRET,
            "FOLIO_WORKER_THREADS": "8",
        }
        clients = []
        for host in ("host-a", "host-b"):
            data_dir = tmp_path / host
            data_dir.mkdir()
            server = stack.enter_context(
                served(
                    tmp_path,
                    env=env | {"FOLIO_DATA_DIR": str(data_dir)},
                    start_seconds=START_SECONDS,
                )
            )
            client = httpx.Client(base_url=server.base, timeout=30)
            clients.append(stack.enter_context(client))
        yield clients[0], clients[1]


def anonymous(worker: httpx.Client, slug: str) -> httpx.Response:
    response = worker.get(f"/api/v1/reports/{slug}")
    assert response.status_code == 200 and response.json()["access"] == "preview"
    return response


def test_an_edit_on_one_host_changes_the_preview_the_other_kept(hosts, admin: Account, catalog):
    a, b = hosts
    report = subscribers_report("edited-on-a", catalog.collection)
    assert a.post("/api/v1/admin/reports", headers=admin.headers, json=report).is_success
    for worker in (a, b, a, b):  # the second read of each is answered from what it kept
        kept = anonymous(worker, "edited-on-a")
    etag = kept.headers["etag"]

    edited = a.patch(
        "/api/v1/admin/reports/edited-on-a", headers=admin.headers, json={"title": "Revised"}
    )
    assert edited.status_code == 200, edited.text
    fresh = anonymous(b, "edited-on-a")
    assert fresh.json()["title"] == "Revised" and fresh.headers["etag"] != etag


def test_revocations_on_one_host_are_honoured_by_the_other(
    hosts, admin: Account, reader: Account, catalog: Catalog, publish: Callable[..., dict]
):
    """A comp revoked, a licence expired, a subscription cancelled, a session logged out, a
    user disabled through host A: host B's very next read honours it."""
    publish(slug=SLUG, title="Kept", body=BODY)
    a, b = hosts
    revocations_are_honoured_by_the_other_worker(a, b, admin, reader, catalog)
