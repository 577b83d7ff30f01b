"""Who a token's viewer is and what they hold, kept per worker (app/holdings_cache.py).

R-A1 still holds with the cache: a comp revoked, a licence expired, a subscription
cancelled, a session logged out or a user disabled through one worker is honoured by the
other worker's very next read. Shown with two app objects on one database (two caches
in one process) and with two real `folio serve` processes over one database and one
FOLIO_DATA_DIR.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from app.access_generation import current_access_generation
from app.config import get_settings
from app.db import session_scope
from app.generation import GenerationCache
from app.models import User, utcnow
from app.reports import preview_fast_path, routes
from tests.support import stripe_events as se
from tests.support.app import Account, Catalog
from tests.support.served import served
from tests.support.statements import statements

SLUG = "kept-holdings"
URL = f"/api/v1/reports/{SLUG}"
BODY = "The lead.\n\n<!-- paywall -->\n\nThe paid analysis."


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FOLIO_STRIPE_WEBHOOK_SECRET", se.WEBHOOK_SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def report(publish: Callable[..., dict]) -> str:
    return publish(slug=SLUG, title="Kept", body=BODY)["slug"]


def access_of(worker: httpx.Client, headers: dict[str, str]) -> str | int:
    """The access a read gets, or its status when it is refused."""
    response = worker.get(URL, headers=headers)
    if response.status_code != 200:
        return response.status_code
    return response.json()["access"]


def warm(workers: tuple[httpx.Client, ...], headers: dict[str, str], expected: str) -> None:
    for worker in workers:
        for _ in range(2):  # the second read is answered from the worker's cache
            assert access_of(worker, headers) == expected


def deliver(worker: httpx.Client, body: bytes) -> None:
    response = worker.post(
        "/webhooks/stripe",
        content=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": se.sign(body)},
    )
    assert response.status_code == 200, response.text


def revocations_are_honoured_by_the_other_worker(
    one: httpx.Client, two: httpx.Client, admin: Account, reader: Account, catalog: Catalog
) -> None:
    """Each grant is warmed on both workers, then taken away through `one`: `two`'s very
    next read honours it."""
    both = (one, two)
    me = reader.headers
    warm(both, me, "preview")

    comp = one.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert comp.status_code == 201, comp.text
    warm(both, me, "full")
    revoked = one.delete(f"/api/v1/admin/comps/{comp.json()['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    assert access_of(two, me) == "preview"

    org = one.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={
            "name": "Example Org",
            "tier": catalog.tier,
            "email_domains": ["example.org"],
            "expires_at": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )
    assert org.status_code == 201, org.text
    warm(both, me, "full")
    expired = one.patch(
        f"/api/v1/admin/organizations/{org.json()['id']}",
        headers=admin.headers,
        json={"expires_at": (utcnow() - timedelta(minutes=1)).isoformat()},
    )
    assert expired.status_code == 200, expired.text
    assert access_of(two, me) == "preview"

    now = int(datetime.now().timestamp())
    sub = {"user_id": reader.id, "sub_id": "sub_kept"}
    deliver(one, se.event("customer.subscription.created", se.subscription(**sub), created=now))
    warm(both, me, "full")
    cancelled = se.subscription(**sub, status="canceled")
    deliver(one, se.event("customer.subscription.deleted", cancelled, created=now + 1))
    assert access_of(two, me) == "preview"

    pair = one.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    ).json()
    session = {"Authorization": f"Bearer {pair['access_token']}"}
    warm(both, session, "preview")
    logout = one.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204
    assert access_of(two, session) == 401
    assert access_of(two, me) == "preview"  # another session of the same reader stands

    disabled = one.patch(
        f"/api/v1/admin/users/{reader.id}", headers=admin.headers, json={"disabled": True}
    )
    assert disabled.status_code == 200, disabled.text
    assert access_of(two, me) == 401


def test_two_app_workers_honour_revocations_on_the_next_read(
    client, client_with, admin, reader, catalog, report
):
    revocations_are_honoured_by_the_other_worker(client, client_with(), admin, reader, catalog)


def test_two_served_workers_honour_revocations_on_the_next_read(
    tmp_path, admin, reader, catalog, report
):
    env = {"FOLIO_STRIPE_WEBHOOK_SECRET": se.WEBHOOK_SECRET}
    with (
        served(tmp_path, env=env) as first,
        served(tmp_path, env=env) as second,
        httpx.Client(base_url=first.base, timeout=20) as one,
        httpx.Client(base_url=second.base, timeout=20) as two,
    ):
        revocations_are_honoured_by_the_other_worker(one, two, admin, reader, catalog)


def test_a_warm_entitled_read_runs_no_statement(client, admin, reader, catalog, report):
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert comp.status_code == 201
    with statements() as sent:
        assert access_of(client, reader.headers) == "full"
    assert sent, "the first read reads the viewer, the report and the holdings"
    with statements() as sent:
        for _ in range(3):
            assert access_of(client, reader.headers) == "full"
    assert sent == []


def test_a_write_through_any_session_is_seen(client, client_with, reader, report):
    """A Core UPDATE run through a session (as a CLI command or a script would) bumps the
    generation too: the other worker refuses the disabled reader."""
    other = client_with()
    warm((client, other), reader.headers, "preview")
    before = current_access_generation()
    with session_scope() as session:
        session.execute(update(User).where(User.id == reader.id).values(disabled=True))
    assert current_access_generation() != before
    assert access_of(other, reader.headers) == 401


def test_a_licence_expiring_by_time_stops_granting_without_a_write(
    client, admin, reader, catalog, report, monkeypatch: pytest.MonkeyPatch
):
    now = utcnow()
    org = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={
            "name": "Example Org",
            "tier": catalog.tier,
            "email_domains": ["example.org"],
            "expires_at": (now + timedelta(hours=1)).isoformat(),
        },
    )
    assert org.status_code == 201, org.text
    warm((client,), reader.headers, "full")
    before = current_access_generation()
    for module in (routes, preview_fast_path):  # time passes for both readers of a report
        monkeypatch.setattr(module, "utcnow", lambda: now + timedelta(hours=2))
    with statements() as sent:
        assert access_of(client, reader.headers) == "preview"
    assert current_access_generation() == before
    assert [s for s in sent if "organization" in s.lower()] == []  # decided from the kept list


def test_a_refresh_keeps_the_kept_answers(client, reader, report):
    """Rotating a refresh token ends no session: it does not empty every worker's cache."""
    pair = client.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    ).json()
    before = current_access_generation()
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert current_access_generation() == before


def test_the_cache_is_bounded_and_keyed_by_generation():
    cache = GenerationCache(max_entries=2)
    for n in range(3):
        cache.put(n, (1, 1, 1), f"value {n}")
    assert len(cache) == 2
    assert cache.get(2, (1, 1, 1)) == "value 2" and cache.get(1, (1, 1, 1)) == "value 1"
    assert cache.get(0, (1, 1, 1)) != "value 0"  # evicted, the oldest
    assert cache.get(2, (1, 2, 1)) != "value 2"  # another generation: not kept


def test_a_kept_signed_in_read_is_the_route_s_answer(client, admin, reader, catalog, report):
    """The warm read answered before routing (app.reports.preview_fast_path) sends the
    route's bytes and private headers, full text or paywalled preview alike."""
    for granted in (False, True):
        if granted:
            client.post(
                f"/api/v1/admin/users/{reader.id}/comps",
                headers=admin.headers,
                json={"tier": catalog.tier},
            )
        routed = client.get(URL, headers=reader.headers)  # read, and kept
        with statements() as sent:
            kept = client.get(URL, headers=reader.headers)
        assert sent == []
        assert kept.status_code == routed.status_code == 200
        assert kept.content == routed.content
        assert kept.json()["access"] == ("full" if granted else "preview")
        for header in ("content-type", "content-length", "cache-control", "vary"):
            assert kept.headers[header] == routed.headers[header], header
        assert "etag" not in kept.headers
    bad = client.get(URL, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    missing = client.get("/api/v1/reports/no-such-report", headers=reader.headers)
    assert missing.status_code == 404
