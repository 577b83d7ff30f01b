"""Account-test helpers: clients with their own settings and IP, sign-up through the mailbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import get_settings
from app.db import session_scope
from app.main import create_app
from tests.support.smtp import Mailbox

PASSWORD = "paper lantern orbit 42"
ClientFactory = Callable[..., TestClient]


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


def count(model: type) -> int:
    with session_scope(write=False) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def sign_up(client: TestClient, mailbox: Mailbox, email: str, password: str = PASSWORD) -> dict:
    """Register, follow the emailed link, and return the token pair `verify` answers."""
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    token = mailbox.token("verify", to=email.strip().lower())
    verified = client.post("/api/v1/auth/verify", json={"token": token})
    assert verified.status_code == 200, verified.text
    return verified.json()


def bearer(pair: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def password_login(client: TestClient, email: str, password: str = PASSWORD):  # noqa: ANN201
    return client.post("/api/v1/auth/login", data={"username": email, "password": password})
