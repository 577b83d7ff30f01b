"""R-S8: a password change or reset retires every emailed link and the private feed token."""

from __future__ import annotations

from tests.accounts.conftest import PASSWORD, bearer, password_login, sign_up

NEW_PASSWORD = "a brand new passphrase"


def _change_password(client, pair: dict):  # noqa: ANN202
    return client.patch(
        "/api/v1/me",
        headers=bearer(pair),
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
    )


def test_a_password_change_retires_magic_links_and_the_feed_token(client, mailbox):
    pair = sign_up(client, mailbox, "kim@example.org")
    client.post("/api/v1/auth/magic-link", json={"email": "kim@example.org"})
    magic_token = mailbox.token("magic", to="kim@example.org")
    code = mailbox.code(to="kim@example.org")
    feed_token = client.post("/api/v1/me/feed-token", headers=bearer(pair)).json()["token"]
    assert client.get(f"/feeds/private/{feed_token}.xml").status_code == 200

    assert _change_password(client, pair).status_code == 200
    by_link = client.post("/api/v1/auth/magic-link/confirm", json={"token": magic_token})
    by_code = client.post(
        "/api/v1/auth/magic-link/confirm", json={"email": "kim@example.org", "code": code}
    )
    assert by_link.status_code == by_code.status_code == 401
    assert client.get(f"/feeds/private/{feed_token}.xml").status_code == 404


def test_a_password_reset_retires_verification_and_magic_links(client, mailbox):
    client.post("/api/v1/auth/register", json={"email": "lou@example.org", "password": PASSWORD})
    verify_token = mailbox.token("verify", to="lou@example.org")
    client.post("/api/v1/auth/magic-link", json={"email": "lou@example.org"})
    magic_token = mailbox.token("magic", to="lou@example.org")
    client.post("/api/v1/auth/password-reset", json={"email": "lou@example.org"})
    reset = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": mailbox.token("reset", to="lou@example.org"), "password": NEW_PASSWORD},
    )
    assert reset.status_code == 204

    assert client.post("/api/v1/auth/verify", json={"token": verify_token}).status_code == 400
    assert (
        client.post("/api/v1/auth/magic-link/confirm", json={"token": magic_token}).status_code
        == 401
    )
    assert password_login(client, "lou@example.org", PASSWORD).status_code == 401
    assert password_login(client, "lou@example.org", NEW_PASSWORD).status_code == 200
