"""Account-test helpers: clients with their own settings and IP, sign-up through the mailbox."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import session_scope
from tests.support.smtp import Mailbox

PASSWORD = "paper lantern orbit 42"


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
