"""Two licensed organizations, reports to read, COUNTER keys, and a month of synthetic reads
recorded through the public recorder (record_read, then flush)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.access import Access, Anonymous, Decision, Member, Reason
from app.db import session_scope
from app.models import utcnow
from app.usage import recorder
from app.usage.counter import aggregate, month_start, previous_month
from tests.support.app import Account, Catalog, create_user

ORGS = "/api/v1/admin/organizations"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
FULL = Decision(Access.FULL, Reason.ENTITLED)
OPEN = Decision(Access.FULL, Reason.PUBLIC)
DENIED = Decision(Access.PREVIEW, Reason.SUBSCRIPTION_REQUIRED)
SPENT = Decision(Access.PREVIEW, Reason.METER_EXHAUSTED)


@dataclass
class World:
    org_a: dict[str, Any]  # by IP range 10.1.0.0/16
    org_b: dict[str, Any]  # by the verified domain uni-b.edu
    key_a: dict[str, Any]
    key_b: dict[str, Any]
    licensed: dict[str, Any]  # subscribers, in the collection both tiers grant
    public: dict[str, Any]
    unlicensed: dict[str, Any]  # subscribers, in a collection no licence grants
    month: date  # a month that has ended, two before the current one

    def query(self, key: dict[str, Any], **params: str) -> dict[str, str]:
        return {"customer_id": key["customer_id"], "api_key": key["api_key"]} | params


def issue_key(client: TestClient, admin: Account, org_id: int) -> dict[str, Any]:
    response = client.post(f"{ORGS}/{org_id}/counter-key", headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def world(client: TestClient, admin: Account, catalog: Catalog, publish: Callable) -> World:
    def org(name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "tier": catalog.tier} | fields
        response = client.post(ORGS, headers=admin.headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    org_a = org("University A", ip_ranges=["10.1.0.0/16"])
    org_b = org("University B", email_domains=["uni-b.edu"])
    return World(
        org_a=org_a,
        org_b=org_b,
        key_a=issue_key(client, admin, org_a["id"]),
        key_b=issue_key(client, admin, org_b["id"]),
        licensed=publish(title="Port security in the Gulf", authors=["Ada Lovelace"]),
        public=publish(title="Open brief", access_level="public"),
        unlicensed=publish(title="Lab notes", collection=catalog.other_collection),
        month=previous_month(previous_month(month_start(utcnow()))),
    )


def at(month: date, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(month.year, month.month, day, hour, minute, second, tzinfo=UTC)


def reader_of_b(email: str) -> Member:
    user_id = create_user(email)
    return Member(user_id, email, "reader", True, client_ip="198.51.100.7")


def record_synthetic_month(world: World) -> None:
    """The reads whose COUNTER counts the tests know by hand (see EXPECTED_* in the tests)."""
    m = world.month
    r1, r2, r3 = world.licensed["id"], world.public["id"], world.unlicensed["id"]
    on_campus, colleague = Anonymous("10.1.2.3"), Anonymous("10.1.9.9")
    ada, bob = reader_of_b("ada@uni-b.edu"), reader_of_b("bob@lab.uni-b.edu")
    outsider = reader_of_b("someone@gmail.example")
    staff = Member(create_user("staff@folio.test", role="editor"), "staff@folio.test", "editor",
                   True, client_ip="10.1.2.3")  # fmt: skip
    reads = [
        # University A, anonymous on its network: a double click, then a read 5 min later.
        (r1, FULL, on_campus, FIREFOX, at(m, 3, 10, 0, 0)),
        (r1, FULL, on_campus, FIREFOX, at(m, 3, 10, 0, 20)),
        (r1, FULL, on_campus, FIREFOX, at(m, 3, 10, 5, 0)),
        (r1, FULL, colleague, CHROME, at(m, 4, 9)),
        # A robot on the same network: never counted.
        (r1, FULL, on_campus, GOOGLEBOT, at(m, 5, 1)),
        (r1, FULL, on_campus, GOOGLEBOT, at(m, 5, 2)),
        (r1, FULL, on_campus, GOOGLEBOT, at(m, 5, 3)),
        # The public report, read on A's network: Open.
        (r2, OPEN, on_campus, FIREFOX, at(m, 6, 12)),
        # University B's verified members: a chain of clicks 29 s apart counts once.
        (r1, FULL, ada, FIREFOX, at(m, 7, 14, 0, 0)),
        (r1, FULL, ada, FIREFOX, at(m, 7, 14, 0, 29)),
        (r1, FULL, ada, FIREFOX, at(m, 7, 14, 0, 58)),
        (r1, FULL, ada, FIREFOX, at(m, 7, 14, 59, 0)),
        (r1, FULL, ada, FIREFOX, at(m, 7, 15, 10, 0)),  # a new hour: a new user-session
        (r3, DENIED, ada, FIREFOX, at(m, 8, 11)),
        (r3, SPENT, bob, CHROME, at(m, 9, 16)),
        # Nobody's: a reader outside every organization, and staff on A's network.
        (r2, OPEN, outsider, FIREFOX, at(m, 10, 10)),
        (r1, FULL, staff, FIREFOX, at(m, 11, 10)),
    ]
    for report_id, decision, viewer, agent, when in reads:
        recorder.record_read(report_id, decision, viewer, agent, now=when)
    recorder.flush()


def close_months(now: datetime | None = None) -> list[date]:
    with session_scope() as session:
        return aggregate(session, now or utcnow())


@pytest.fixture
def counted_world(world: World) -> World:
    record_synthetic_month(world)
    close_months()
    return world
