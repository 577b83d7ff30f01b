"""SPEC §5: a unique-key conflict is a 409 with a detail, never a 500, and stores nothing,
whether the service's pre-check catches it or the database does (a race, or a commit)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session

from app.db import get_engine, session_scope
from app.deps import SessionDep, TransactionRoute
from app.main import create_app
from app.models import AuditEntry, Collection, Report, Tier, utcnow
from tests.support.live_server import live_server

ON_POSTGRES = get_engine().dialect.name == "postgresql"


def _counts() -> tuple[int, ...]:
    with session_scope(write=False) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Collection, Tier, Report, AuditEntry)
        )


def test_a_unique_violation_raised_at_commit_is_a_409(client, catalog):
    app = create_app()
    router = APIRouter(route_class=TransactionRoute)

    @router.post("/api/test-only/collection-at-commit")
    def add_at_commit(session: SessionDep) -> dict[str, bool]:
        # No flush: the INSERT, and so the violation, happens when the request commits.
        session.add(Collection(slug=catalog.collection, name="Again"))
        return {"stored": True}

    app.include_router(router)
    before = _counts()
    with TestClient(app, base_url="http://folio.test") as test_client:
        response = test_client.post("/api/test-only/collection-at-commit")
    assert response.status_code == 409, response.text
    assert "already exists" in response.json()["detail"]
    assert "slug" in response.json()["detail"]
    assert _counts() == before


def test_a_reference_to_a_row_gone_meanwhile_is_a_409(client, catalog):
    app = create_app()
    router = APIRouter(route_class=TransactionRoute)

    @router.post("/api/test-only/report-of-a-removed-collection")
    def add_orphan(session: SessionDep) -> dict[str, bool]:
        # As if the collection had been removed between the lookup and the INSERT.
        session.add(Report(slug="orphan", title="Orphan", collection_id=2**31 - 1))
        return {"stored": True}

    app.include_router(router)
    before = _counts()
    with TestClient(app, base_url="http://folio.test") as test_client:
        response = test_client.post("/api/test-only/report-of-a-removed-collection")
    assert response.status_code == 409, response.text
    assert "removed" in response.json()["detail"]
    assert _counts() == before


def _wait_for_a_blocked_insert() -> None:
    """Until a backend of this database waits on a lock (the request's INSERT)."""
    with get_engine().connect() as probe:
        for _ in range(2000):
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            probe.rollback()
            time.sleep(0.01)
    raise AssertionError("the request never blocked on the unique index")


def _first_report(collection_id: int) -> Report:
    now = utcnow()
    return Report(slug="raced", title="First", collection_id=collection_id, created_at=now)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises writers: no race to lose")
@pytest.mark.parametrize("kind", ["collections", "reports"])
def test_a_create_that_loses_a_race_on_the_unique_key_is_a_409(admin, catalog, kind):
    """The request's pre-check passes (the other transaction has not committed), its INSERT
    waits on the unique index, and fails once the other commits."""
    with session_scope(write=False) as session:
        collection_id = session.execute(
            select(Collection.id).where(Collection.slug == catalog.collection)
        ).scalar_one()
    if kind == "collections":
        body = {"slug": "raced", "name": "Second"}
    else:
        body = {"slug": "raced", "title": "Second", "collection": catalog.collection}
    with live_server() as base, Session(get_engine()) as other:
        other.add(
            Collection(slug="raced", name="First")
            if kind == "collections"
            else _first_report(collection_id)
        )
        other.flush()
        before = _counts()
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                httpx.post,
                f"{base}/api/v1/admin/{kind}",
                json=body,
                headers=admin.headers,
                timeout=60,
            )
            _wait_for_a_blocked_insert()
            other.commit()
            response = pending.result()
    assert response.status_code == 409, response.text
    assert "slug" in response.json()["detail"]
    # The one row is the other transaction's; the request left nothing, not even an audit.
    expected = list(before)
    expected[0 if kind == "collections" else 2] += 1
    assert _counts() == tuple(expected)


def test_concurrent_creates_of_one_slug_give_one_201_and_409s(admin, catalog):
    attempts = 6
    start = threading.Barrier(attempts)

    def create(n: int) -> httpx.Response:
        start.wait()
        return httpx.post(
            f"{base}/api/v1/admin/collections",
            json={"slug": "contested", "name": f"Attempt {n}"},
            headers=admin.headers,
            timeout=60,
        )

    before = _counts()
    with live_server() as base, ThreadPoolExecutor(attempts) as pool:
        responses = list(pool.map(create, range(attempts)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (attempts - 1), [r.text for r in responses]
    assert all(r.json()["detail"] for r in responses if r.status_code == 409)
    assert _counts()[0] == before[0] + 1
