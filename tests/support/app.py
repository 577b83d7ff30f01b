"""Fixtures that drive the app over HTTP, and a clean database for each test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.accounts.passwords import hash_password
from app.accounts.service import issue_tokens
from app.config import get_settings
from app.db import get_engine, session_scope
from app.main import create_app
from app.models import User, metadata, utcnow
from tests.support.smtp import mailbox, smtp_server  # noqa: F401  (fixtures: real SMTP)

ClientFactory = Callable[..., TestClient]
DEFAULT_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def clean_database() -> Iterator[None]:
    """Every test starts from empty tables (the schema stays as migrated)."""
    get_settings.cache_clear()
    for attempt in range(EMPTYING_ATTEMPTS):
        try:
            _empty_tables()
            break
        except OperationalError:
            # A server a module keeps running (tests/scale, tests/faults) may be writing at
            # that moment (its usage flusher, its outbox sender): PostgreSQL ends one side
            # of the lock cycle (deadlock detected), and emptying again succeeds.
            if attempt == EMPTYING_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    yield


EMPTYING_ATTEMPTS = 5


def _empty_tables() -> None:
    with get_engine().begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


@cache
def shared_app() -> FastAPI:
    """One app for the session: FastAPI prepares an app's routes on its first request (about
    40 ms an app), which, paid per test, was a third of the suite. Tests that need other
    start-up settings build their own app (`client_with`)."""
    return create_app()


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = shared_app()
    app.state._state.clear()  # per-app state (the throttle) starts afresh for every test
    with TestClient(app, base_url="http://folio.test") as test_client:
        yield test_client


@dataclass
class Account:
    id: int
    email: str
    password: str
    headers: dict[str, str]


@cache
def password_hash(password: str) -> str:
    """Argon2 costs ~0.1 s a hash: each test password is hashed once per session."""
    return hash_password(password)


def create_user(
    email: str,
    *,
    role: str = "reader",
    verified: bool = True,
    password: str = DEFAULT_PASSWORD,
    disabled: bool = False,
) -> int:
    with session_scope() as session:
        user = User(
            email=email.lower(),
            name=email.split("@")[0],
            role=role,
            password_hash=password_hash(password),
            email_verified_at=utcnow() if verified else None,
            disabled=disabled,
        )
        session.add(user)
        session.flush()
        return user.id  # type: ignore[return-value]


def login(client: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def bearer_for(user_id: int) -> dict[str, str]:
    """The header a sign-in would give, from the app's own issuer (a new session, no argon2)."""
    with session_scope() as session:
        user = session.get(User, user_id)
        pair = issue_tokens(session, user, get_settings())  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {pair.access_token}"}


@pytest.fixture
def make_account(client: TestClient) -> Callable[..., Account]:
    """A user and a valid access token; tests about signing in call `login` themselves."""

    def make(email: str, role: str = "reader", **kwargs: Any) -> Account:
        user_id = create_user(email, role=role, **kwargs)
        return Account(user_id, email, DEFAULT_PASSWORD, bearer_for(user_id))

    return make


@pytest.fixture
def admin(make_account: Callable[..., Account]) -> Account:
    return make_account("admin@folio.test", role="admin")


@pytest.fixture
def editor(make_account: Callable[..., Account]) -> Account:
    return make_account("editor@folio.test", role="editor")


@pytest.fixture
def reader(make_account: Callable[..., Account]) -> Account:
    return make_account("reader@example.org")


@dataclass
class Catalog:
    collection: str
    other_collection: str
    tier: str
    all_access_tier: str


@pytest.fixture
def catalog(client: TestClient, admin: Account) -> Catalog:
    """Two collections; a tier granting the first, and an all-access tier. Made by the
    services the admin routes call (setup for most tests; the routes have their own)."""
    from app.accounts.service import member_of
    from app.billing.catalog import create_tier
    from app.billing.schemas import TierIn
    from app.reports.admin_schemas import CollectionIn
    from app.reports.editing import create_collection

    collections = (("threat-monitor", "Threat Monitor"), ("cyber-lab", "Cyber Lab"))
    tiers = (
        {
            "slug": "threat-pro",
            "name": "Threat Pro",
            "collections": ["threat-monitor"],
            "prices": [
                {
                    "interval": "month",
                    "amount": 2900,
                    "currency": "usd",
                    "stripe_price_id": "price_threat_month",
                },
                {
                    "interval": "year",
                    "amount": 29000,
                    "currency": "usd",
                    "stripe_price_id": "price_threat_year",
                },
            ],
        },
        {
            "slug": "all-access",
            "name": "All Access",
            "all_collections": True,
            "prices": [{"interval": "month", "amount": 4900, "currency": "eur"}],
        },
    )
    with session_scope() as session:
        actor = member_of(session.get(User, admin.id))  # type: ignore[arg-type]
        for slug, name in collections:
            body = CollectionIn(slug=slug, name=name, description=f"{name} covers its field.")
            create_collection(session, body, actor)
        for tier in tiers:
            create_tier(session, TierIn.model_validate(tier), actor)
    return Catalog("threat-monitor", "cyber-lab", "threat-pro", "all-access")


@pytest.fixture
def publish(client: TestClient, admin: Account, catalog: Catalog) -> Callable[..., dict]:
    """Publishes a report through the admin API and returns the admin response body."""

    def make(**fields: Any) -> dict:
        body = {
            "title": "A report",
            "summary": "Summary.",
            "body": "Text.",
            "collection": catalog.collection,
            "access_level": "subscribers",
            "status": "published",
        } | fields
        response = client.post("/api/v1/admin/reports", headers=admin.headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def client_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    """A new app (so a new in-process throttle) under extra FOLIO_ settings, seen from `ip`."""
    opened: list[TestClient] = []

    def make(ip: str = "203.0.113.10", **settings: object) -> TestClient:
        for name, value in settings.items():
            monkeypatch.setenv(f"FOLIO_{name.upper()}", str(value))
        get_settings.cache_clear()
        client = TestClient(create_app(), base_url="http://folio.test", client=(ip, 50000))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
    get_settings.cache_clear()
