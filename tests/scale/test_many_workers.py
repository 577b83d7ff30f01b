"""Many workers (issue 12, R-O2): real `folio serve` processes on one database and Redis.

`folio serve --workers 2` shares one socket, so which worker answers is the kernel's
choice. To send each request to a chosen worker, most tests run two `folio serve`
processes on two ports over the same database, FOLIO_DATA_DIR, Redis and SMTP server —
which is what many stateless workers behind a load balancer are. The last test runs
`folio serve --workers 2` itself. Both run on SQLite (a supported two-worker setup) and
on PostgreSQL (FOLIO_TEST_DATABASE_URL).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial

import httpx
import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import AuditEntry, OutboxEmail, StripeEvent, Subscription
from tests.scale.reports import subscribers_report
from tests.support import stripe_events as se
from tests.support.app import DEFAULT_PASSWORD, Account, Catalog, bearer_for, create_user
from tests.support.redis_prefix import REDIS_URL, redis_prefix
from tests.support.served import Served, served
from tests.support.smtp import Mailbox

CAMPUS_IP = "192.0.2.77"
WAIT_SECONDS = 20  # the longest a test waits for mail the senders poll for
# Importing the app takes seconds; on a machine busy with the rest of the suite, minutes.
START_SECONDS = 180


@pytest.fixture(scope="module")
def throttle_prefix() -> Iterator[str]:
    """A Redis key prefix of this module's own, removed afterwards."""
    with redis_prefix() as prefix:
        yield prefix


@pytest.fixture(scope="module")
def worker_env(throttle_prefix: str, smtp_server: Mailbox) -> dict[str, str | None]:
    return {
        "FOLIO_REDIS_URL": REDIS_URL,
        "FOLIO_THROTTLE_KEY_PREFIX": throttle_prefix,
        # Each worker sends the outbox, as in production, to the tests' SMTP server.
        "FOLIO_OUTBOX_SENDER": "on",
        "FOLIO_OUTBOX_POLL_SECONDS": "0.05",
        "FOLIO_SMTP_HOST": "127.0.0.1",
        "FOLIO_SMTP_PORT": str(smtp_server.port),
        "FOLIO_STRIPE_WEBHOOK_SECRET": se.WEBHOOK_SECRET,
        # The tests play a load balancer: X-Forwarded-For names the reader's address.
        "FOLIO_TRUSTED_PROXIES": "127.0.0.1",
        # Every request of the module comes from 127.0.0.1; the per-account login limit
        # is what the throttle test counts.
        "FOLIO_ACCOUNT_REQUESTS_PER_IP": "1000",
        "FOLIO_LOGIN_FAILURES_PER_IP": "1000",
        "FOLIO_WORKER_THREADS": "8",  # a small pool: the suite shares one PostgreSQL
    }


@pytest.fixture(scope="module")
def pair(
    worker_env: dict[str, str | None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two `folio serve` processes (one worker each) on the same database, as (A, B)."""
    logs = tmp_path_factory.mktemp("pair")
    with ExitStack() as stack:
        clients = []
        for _ in range(2):
            server = stack.enter_context(served(logs, env=worker_env, start_seconds=START_SECONDS))
            clients.append(stack.enter_context(httpx.Client(base_url=server.base, timeout=30)))
        yield clients[0], clients[1]


@pytest.fixture
def admin_headers(admin: Account) -> dict[str, str]:
    return admin.headers


@pytest.fixture
def report(pair, admin_headers: dict[str, str], catalog: Catalog) -> Callable[[str], str]:
    """Publishes a subscribers report in the tier's collection through worker A."""

    def publish(slug: str) -> str:
        a, _b = pair
        body = subscribers_report(slug, catalog.collection)
        response = a.post("/api/v1/admin/reports", headers=admin_headers, json=body)
        assert response.status_code == 201, response.text
        return slug

    return publish


def read(worker: httpx.Client, slug: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return worker.get(f"/api/v1/reports/{slug}", headers=headers or {})


def access(worker: httpx.Client, slug: str, headers: dict[str, str] | None = None) -> str:
    response = read(worker, slug, headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["access"] == "full") == ("after the cut" in response.text)
    return body["access"]


def count(model: type, *where: object) -> int:
    with session_scope(write=False) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Runs the calls on threads released together; their answers in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def wrong_login(worker: httpx.Client, email: str) -> int:
    data = {"username": email, "password": "not the password at all"}
    return worker.post("/api/v1/auth/login", data=data).status_code


# The login throttle -------------------------------------------------------------------


def test_failed_logins_over_two_workers_are_counted_together(pair):
    a, b = pair
    alone, spread = "alone@example.org", "spread@example.org"
    for email in (alone, spread):
        create_user(email)
    # One worker: five failures are answered 401, the sixth attempt is refused.
    assert [wrong_login(a, alone) for _ in range(6)] == [401] * 5 + [429]
    # The same five failures spread over two workers hit the limit at the same count.
    assert [wrong_login((a, b)[i % 2], spread) for i in range(6)] == [401] * 5 + [429]
    # The lock holds on both, even for the right password.
    for worker in (a, b):
        right = worker.post(
            "/api/v1/auth/login", data={"username": spread, "password": DEFAULT_PASSWORD}
        )
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


# The outbox -----------------------------------------------------------------------------


def wait_for_mail(mailbox: Mailbox, expected: int) -> list:
    """Waits until `expected` emails arrived, then a few more poll periods for any extra."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(mailbox.messages) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # twenty sender polls: a second copy would have arrived by now
    return mailbox.messages


def test_each_outbox_email_is_sent_once_by_two_senders(pair, smtp_server: Mailbox):
    """Thirty emails queued through both workers at once, both senders polling every 50 ms.
    (Which sender claims what is timing: with the claim's row lock removed, this caught a
    duplicate in two of three runs on PostgreSQL; tests/mail/test_sender.py races two
    senders directly.)"""
    a, b = pair
    smtp_server.clear()
    existing = [f"member{i}@example.org" for i in range(12)]
    for email in existing:
        create_user(email)
    newcomers = [f"newcomer{i}@example.org" for i in range(18)]
    requests = [
        ("/api/v1/auth/register", {"email": e, "password": "a long password 1"}) for e in newcomers
    ]
    requests += [("/api/v1/auth/password-reset", {"email": e}) for e in existing]
    # Both workers take requests at once while both senders poll the outbox.
    answers = at_once(
        *(partial((a, b)[i % 2].post, p, json=j) for i, (p, j) in enumerate(requests))
    )
    assert all(r.status_code == 202 for r in answers), [r.text for r in answers]
    messages = wait_for_mail(smtp_server, len(requests))
    received = Counter(message["To"] for message in messages)
    assert received == Counter(newcomers + existing)
    assert count(OutboxEmail) == len(requests)
    assert count(OutboxEmail, OutboxEmail.status == "sent") == len(requests)


# Stripe webhooks ------------------------------------------------------------------------


def test_one_event_delivered_to_both_workers_at_once_is_applied_once(pair, catalog):
    a, b = pair
    reader_id = create_user("subscriber@example.org")
    for round_ in range(3):
        body = se.event(
            "customer.subscription.created",
            se.subscription(f"sub_both_{round_}", customer=f"cus_{round_}", user_id=reader_id),
        )
        headers = {"Content-Type": "application/json", "Stripe-Signature": se.sign(body)}
        answers = at_once(
            *(partial(w.post, "/webhooks/stripe", content=body, headers=headers) for w in (a, b))
        )
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        # One of the two applied it; the other found it already recorded.
        assert sorted(r.json()["duplicate"] for r in answers) == [False, True]
        assert count(StripeEvent) == round_ + 1
        assert count(Subscription) == round_ + 1
    assert count(AuditEntry, AuditEntry.action == "access.grant") >= 1
    grants = count(AuditEntry, AuditEntry.actor.startswith("stripe:"))
    assert grants == count(StripeEvent)  # one effect per event, not one per delivery


# The preview cache ----------------------------------------------------------------------


def anonymous(worker: httpx.Client, slug: str) -> httpx.Response:
    response = read(worker, slug)
    assert response.status_code == 200 and response.json()["access"] == "preview"
    assert "after the cut" not in response.text
    return response


def test_an_edit_through_one_worker_shows_on_the_other(pair, admin_headers, report):
    a, b = pair
    slug = report("edited-on-a")
    kept = {name: anonymous(w, slug) for name, w in (("a", a), ("b", b))}  # both keep it
    assert kept["a"].content == kept["b"].content
    etag = kept["b"].headers["etag"]
    assert b.get(f"/api/v1/reports/{slug}", headers={"If-None-Match": etag}).status_code == 304

    edited = a.patch(
        f"/api/v1/admin/reports/{slug}",
        headers=admin_headers,
        json={"title": "Sahel drones, revised", "tags": ["uav"]},
    )
    assert edited.status_code == 200, edited.text
    fresh = anonymous(b, slug)
    assert fresh.json()["title"] == "Sahel drones, revised" and fresh.json()["tags"] == ["uav"]
    assert fresh.headers["etag"] != etag
    assert b.get(f"/api/v1/reports/{slug}", headers={"If-None-Match": etag}).status_code == 200

    # and the other way, through what the paywall shows: a tier's price
    price = {"prices": [{"interval": "month", "amount": 3500, "currency": "usd"}]}
    assert b.patch("/api/v1/admin/tiers/threat-pro", headers=admin_headers, json=price).is_success
    tiers = anonymous(a, slug).json()["paywall"]["tiers"]
    assert {t["slug"]: [p["amount"] for p in t["prices"]] for t in tiers}["threat-pro"] == [3500]


# R-A1: a change through worker A is honoured by worker B on the next request ------------


def test_a_comp_revoked_through_one_worker_ends_access_on_the_other(pair, admin_headers, report):
    a, b = pair
    slug = report("comp-revoked")
    reader_id = create_user("comped@example.org")
    reader = bearer_for(reader_id)
    assert access(b, slug, reader) == "preview"
    granted = a.post(
        f"/api/v1/admin/users/{reader_id}/comps", headers=admin_headers, json={"tier": "threat-pro"}
    )
    assert granted.status_code == 201, granted.text
    assert access(b, slug, reader) == "full"
    revoked = a.delete(f"/api/v1/admin/comps/{granted.json()['id']}", headers=admin_headers)
    assert revoked.status_code == 204
    assert access(b, slug, reader) == "preview"


def test_a_user_disabled_through_one_worker_is_refused_by_the_other(pair, admin_headers, report):
    a, b = pair
    slug = report("user-disabled")
    reader_id = create_user("disabled@example.org")
    reader = bearer_for(reader_id)
    comp = {"tier": "threat-pro"}
    granted = a.post(f"/api/v1/admin/users/{reader_id}/comps", headers=admin_headers, json=comp)
    assert granted.status_code == 201, granted.text
    assert access(b, slug, reader) == "full"  # B has now verified and kept this token
    disabled = a.patch(
        f"/api/v1/admin/users/{reader_id}", headers=admin_headers, json={"disabled": True}
    )
    assert disabled.status_code == 200, disabled.text
    refused = read(b, slug, reader)
    assert refused.status_code == 401 and "after the cut" not in refused.text
    assert b.get("/api/v1/me", headers=reader).status_code == 401


def test_an_organization_expired_through_one_worker_ends_access_on_the_other(
    pair, admin_headers, report
):
    a, b = pair
    slug = report("org-expired")
    campus = {"X-Forwarded-For": CAMPUS_IP}
    member = bearer_for(create_user("librarian@campus.example.edu"))
    # B keeps the preview, and its index of licensed networks, before the licence exists.
    assert access(b, slug, campus) == access(b, slug, member) == "preview"
    created = a.post(
        "/api/v1/admin/organizations",
        headers=admin_headers,
        json={
            "name": "Example University",
            "tier": "threat-pro",
            "ip_ranges": ["192.0.2.0/24"],
            "email_domains": ["campus.example.edu"],
            "expires_at": "2999-01-01T00:00:00Z",
        },
    )
    assert created.status_code == 201, created.text
    assert access(b, slug, campus) == access(b, slug, member) == "full"
    expired = a.patch(
        f"/api/v1/admin/organizations/{created.json()['id']}",
        headers=admin_headers,
        json={"expires_at": "2020-01-01T00:00:00Z"},
    )
    assert expired.status_code == 200, expired.text
    assert access(b, slug, campus) == access(b, slug, member) == "preview"
    assert read(b, slug, campus).headers["cache-control"].startswith("public")


# `folio serve --workers 2` itself -------------------------------------------------------


def started_workers(server: Served) -> int:
    return server.output().count("Started server process")


def test_folio_serve_with_two_workers_serves_and_shuts_down_cleanly(
    worker_env, smtp_server: Mailbox, tmp_path
):
    smtp_server.clear()
    emails = [f"two-workers{i}@example.org" for i in range(4)]
    with served(tmp_path, workers=2, env=worker_env, start_seconds=START_SECONDS) as server:
        deadline = time.monotonic() + START_SECONDS
        while started_workers(server) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started_workers(server) == 2, server.output()
        with httpx.Client(base_url=server.base, timeout=30) as client:
            assert all(client.get("/healthz").status_code == 200 for _ in range(20))
            # Whichever worker the kernel hands each attempt to, the limit is the same.
            create_user("shared@example.org")
            fresh = [httpx.Client(base_url=server.base, timeout=30) for _ in range(6)]
            try:  # a new connection per attempt, so both workers take some
                statuses = [wrong_login(c, "shared@example.org") for c in fresh]
            finally:
                for c in fresh:
                    c.close()
            assert statuses == [401] * 5 + [429]
            for email in emails:
                reply = client.post(
                    "/api/v1/auth/register", json={"email": email, "password": "a long password 1"}
                )
                assert reply.status_code == 202, reply.text
            received = Counter(m["To"] for m in wait_for_mail(smtp_server, len(emails)))
            assert received == Counter(emails)
        exit_code = server.stop(signal.SIGTERM)
    log = server.output()
    assert exit_code == 0, log
    assert log.count("Finished server process") == 2, log
    assert "Traceback" not in log and "ERROR" not in log, log
