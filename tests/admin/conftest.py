"""Admin-test helpers: a subscriber-only report, a reader's pending request, audit reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db import session_scope
from app.models import AuditEntry

CUT_BODY = "The lead anyone may read.\n\n<!-- paywall -->\n\nThe secret analysis after the cut."


@pytest.fixture
def paid_report(publish: Callable[..., dict]) -> str:
    """A published `subscribers` report in the Threat Monitor collection."""
    return publish(slug="sahel-drones", title="Sahel drones", body=CUT_BODY)["slug"]


def reads_full(client: TestClient, slug: str, headers: dict[str, str] | None = None) -> bool:
    body = client.get(f"/api/v1/reports/{slug}", headers=headers or {}).json()
    assert ("secret analysis" in body["body_html"]) == (body["access"] == "full")
    return body["access"] == "full"


def request_subscription(
    client: TestClient, headers: dict[str, str], tier: str | None = None, org: str = "Harbour"
) -> int:
    body = {"organization": org, "message": "Ten seats for the newsroom."}
    if tier:
        body["tier"] = tier
    response = client.post("/api/v1/subscription-requests", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def audit_entries(action: str | None = None) -> list[AuditEntry]:
    with session_scope(write=False) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.execute(query).scalars())


@pytest.fixture
def client_from(client_with: Callable[..., TestClient]) -> Callable[..., TestClient]:
    """A client whose TCP peer is `ip`, under extra FOLIO_ settings (e.g. trusted_proxies)."""
    return client_with
