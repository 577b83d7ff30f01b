"""Every token is stored as a hash: no raw secret appears anywhere in the database."""

from __future__ import annotations

from sqlalchemy import select

from app.db import session_scope
from app.models import OutboxEmail, metadata
from tests.accounts.conftest import bearer, password_login, sign_up


def _database_dump() -> str:
    """Every value of every column of every table, as text."""
    values: list[str] = []
    with session_scope(write=False) as session:
        for table in metadata.sorted_tables:
            for row in session.execute(select(table)):
                values.extend(str(value) for value in row)
    return "\n".join(values)


def test_no_raw_token_is_stored(client, mailbox):
    email = "sam@example.org"
    verified = sign_up(client, mailbox, email)
    verify_token = mailbox.token("verify", to=email)
    signed_in = password_login(client, email).json()
    rotated = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
    ).json()
    client.post("/api/v1/auth/password-reset", json={"email": email})
    reset_token = mailbox.token("reset", to=email)
    client.post("/api/v1/auth/magic-link", json={"email": email})
    magic_token = mailbox.token("magic", to=email)
    feed_token = client.post("/api/v1/me/feed-token", headers=bearer(rotated)).json()["token"]
    # One more of each, still waiting in the outbox (not yet delivered).
    client.post("/api/v1/auth/password-reset", json={"email": email})

    dump = _database_dump()
    raw = {
        "verify": verify_token,
        "refresh (first)": verified["refresh_token"],
        "refresh (signed in)": signed_in["refresh_token"],
        "refresh (rotated)": rotated["refresh_token"],
        "reset": reset_token,
        "magic": magic_token,
        "feed": feed_token,
    }
    for name, secret in raw.items():
        assert len(secret) >= 20
        assert secret not in dump, f"the raw {name} token is stored"
    assert "token=" not in dump  # not even the links in the outbox bodies
    with session_scope(write=False) as session:
        statuses = set(session.execute(select(OutboxEmail.status)).scalars())
    assert statuses == {"sent", "pending"}
