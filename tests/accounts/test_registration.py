"""Registration and email verification: no account discovery, clear refusals, one-use links."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.db import session_scope
from app.models import OneTimeToken, OutboxEmail, User, utcnow
from tests.accounts.conftest import PASSWORD, bearer, count, password_login, sign_up


def test_register_answers_a_new_a_pending_and_a_taken_email_alike(client, mailbox):
    first = client.post(
        "/api/v1/auth/register", json={"email": "ann@example.org", "password": PASSWORD}
    )
    pending = client.post(
        "/api/v1/auth/register",
        json={"email": "  ANN@Example.org ", "password": "another passphrase"},
    )
    client.post("/api/v1/auth/verify", json={"token": mailbox.token("verify", "ann@example.org")})
    taken = client.post(
        "/api/v1/auth/register", json={"email": "ann@example.org", "password": "third passphrase"}
    )
    assert first.status_code == pending.status_code == taken.status_code == 202
    assert first.json() == pending.json() == taken.json()
    assert count(User) == 1
    mailbox.deliver()
    subjects = [m["Subject"] for m in mailbox.to("ann@example.org")]
    # Until the address is proven, each registration gets its own link (see test_pre_hijacking).
    assert subjects == [
        "Confirm your email address",
        "Confirm your email address",
        "You already have an account",
    ]


def test_the_notice_to_a_taken_address_carries_a_reset_link_not_a_sign_in(client, mailbox):
    sign_up(client, mailbox, "ann@example.org")
    client.post(
        "/api/v1/auth/register",
        json={"email": "ann@example.org", "password": "attacker passphrase"},
    )
    token = mailbox.token("reset", to="ann@example.org")
    assert client.post("/api/v1/auth/verify", json={"token": token}).status_code == 400
    assert password_login(client, "ann@example.org", "attacker passphrase").status_code == 401
    assert password_login(client, "ann@example.org").status_code == 200


def test_verification_link_signs_in_once(client, mailbox):
    client.post(
        "/api/v1/auth/register",
        json={"email": "Ben@Example.org", "password": PASSWORD, "name": "Ben"},
    )
    text = mailbox.last_text("ben@example.org")
    token = mailbox.token("verify", to="ben@example.org")
    assert f"\nhttp://folio.test/verify?token={token}\n" in text

    assert password_login(client, "ben@example.org").status_code == 403  # not verified yet
    pair = client.post("/api/v1/auth/verify", json={"token": token})
    assert pair.status_code == 200
    body = pair.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert body["refresh_token"]
    me = client.get("/api/v1/me", headers=bearer(body)).json()
    assert me["email"] == "ben@example.org" and me["email_verified"] and me["name"] == "Ben"

    reused = client.post("/api/v1/auth/verify", json={"token": token})
    assert reused.status_code == 400
    assert reused.json()["detail"] == "This link is invalid or has expired."
    assert password_login(client, "ben@example.org").status_code == 200


def test_verification_link_expires_after_24_hours(client, mailbox):
    client.post("/api/v1/auth/register", json={"email": "cy@example.org", "password": PASSWORD})
    token = mailbox.token("verify", to="cy@example.org")
    with session_scope() as session:
        row = session.execute(
            update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        assert row.rowcount == 1
    assert client.post("/api/v1/auth/verify", json={"token": token}).status_code == 400


def test_links_use_the_configured_base_url_never_the_host_header(client, mailbox):
    client.post(
        "/api/v1/auth/register",
        json={"email": "dee@example.org", "password": PASSWORD},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    text = mailbox.last_text("dee@example.org")
    assert "evil.example" not in text
    assert "http://folio.test/verify?token=" in text


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"email": "no-at-sign.example.org", "password": PASSWORD}, "@-sign"),
        ({"email": "eve@example.org", "password": "abc"}, "at least 10"),
        ({"email": "eve@example.org", "password": "x" * 300}, "at most 256"),
        ({"email": "eve@example.org", "password": "EVE@example.org"}, "email address"),
        ({"email": "eve@example.org"}, "password"),
        ({"email": "eve@example.org", "password": 1234567890123}, "string"),
        ({"email": "eve@example.org", "password": PASSWORD, "name": "a\x00b"}, "control"),
    ],
)
def test_bad_registration_is_refused_clearly_and_stores_nothing(client, body, words):
    response = client.post("/api/v1/auth/register", json=body)
    assert 400 <= response.status_code < 500
    assert words in str(response.json()["detail"])
    assert count(User) == count(OutboxEmail) == count(OneTimeToken) == 0


def test_malformed_json_is_a_4xx_with_detail(client):
    response = client.post(
        "/api/v1/auth/register",
        content=b'{"email": "x@example.org", ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"]
    assert count(User) == 0


def test_password_is_kept_exactly_as_received(client, mailbox):
    spaced = "  ten chars plus spaces  "
    sign_up(client, mailbox, "fay@example.org", spaced)
    assert password_login(client, "fay@example.org", spaced).status_code == 200
    assert password_login(client, "fay@example.org", spaced.strip()).status_code == 401


def test_password_length_bounds_are_10_and_256(client):
    for email, password, status in (
        ("g1@example.org", "x" * 9, 422),
        ("g2@example.org", "x" * 10, 202),
        ("g3@example.org", "y" * 256, 202),
        ("g4@example.org", "y" * 257, 422),
    ):
        response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
        assert response.status_code == status, (len(password), response.text)


def test_a_reader_cannot_register_as_admin_or_verified(client, mailbox):
    client.post(
        "/api/v1/auth/register",
        json={
            "email": "hal@example.org",
            "password": PASSWORD,
            "role": "admin",
            "email_verified": True,
            "disabled": False,
        },
    )
    with session_scope(write=False) as session:
        user = session.query(User).one()
        assert user.role == "reader" and user.email_verified_at is None


def test_concurrent_registrations_of_one_address_make_one_account(client):
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def attempt(i: int) -> None:
        barrier.wait()
        response = client.post(
            "/api/v1/auth/register",
            json={"email": "race@example.org", "password": f"passphrase {i:04d}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [202] * 4
    assert count(User) == 1
