"""Password reset: the same 202 for every address, a one-hour single-use link, sessions ended."""

from __future__ import annotations

from datetime import timedelta

import argon2
import pytest

from app.accounts import service
from app.config import get_settings
from app.db import session_scope
from app.errors import BadRequest
from app.models import utcnow
from tests.accounts.conftest import bearer, password_login

NEW_PASSWORD = "a brand new passphrase"


def _ask(client, email: str):  # noqa: ANN202
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def _confirm(client, token: str, password: str = NEW_PASSWORD):  # noqa: ANN202
    return client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": password}
    )


def test_reset_answers_known_and_unknown_addresses_alike(client, mailbox, reader):
    known = _ask(client, reader.email)
    unknown = _ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mailbox.deliver()
    assert len(mailbox.to(reader.email)) == 1
    assert mailbox.to("nobody@example.org") == []


def test_a_reset_link_works_once(client, mailbox, reader):
    _ask(client, reader.email.upper())
    token = mailbox.token("reset", to=reader.email)
    assert _confirm(client, token).status_code == 204
    assert _confirm(client, token, "yet another passphrase").status_code == 400
    assert password_login(client, reader.email, reader.password).status_code == 401
    assert password_login(client, reader.email, NEW_PASSWORD).status_code == 200
    mailbox.deliver()
    assert "Your password was changed" in [m["Subject"] for m in mailbox.to(reader.email)]


def test_a_reset_link_is_dead_after_an_hour(client, mailbox, reader):
    _ask(client, reader.email)
    token = mailbox.token("reset", to=reader.email)
    an_hour_later = utcnow() + timedelta(hours=1, seconds=1)
    with pytest.raises(BadRequest), session_scope() as session:
        service.confirm_password_reset(session, get_settings(), token, NEW_PASSWORD, an_hour_later)
    still_valid = utcnow() + timedelta(minutes=59)
    with session_scope() as session:
        service.confirm_password_reset(session, get_settings(), token, NEW_PASSWORD, still_valid)


def test_a_reset_ends_every_session(client, mailbox, reader):
    laptop = password_login(client, reader.email, reader.password).json()
    phone = password_login(client, reader.email, reader.password).json()
    phone = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    ).json()
    _ask(client, reader.email)
    assert _confirm(client, mailbox.token("reset", to=reader.email)).status_code == 204

    for pair in (laptop, phone):
        assert (
            client.post(
                "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
            ).status_code
            == 401
        )
        assert client.get("/api/v1/me", headers=bearer(pair)).status_code == 401
    fresh = password_login(client, reader.email, NEW_PASSWORD).json()
    assert client.get("/api/v1/me", headers=bearer(fresh)).status_code == 200


def test_a_weak_new_password_is_refused_and_the_link_survives(client, mailbox, reader):
    _ask(client, reader.email)
    token = mailbox.token("reset", to=reader.email)
    weak = _confirm(client, token, "short")
    assert weak.status_code == 422
    assert "at least 10" in weak.json()["detail"]
    same_as_email = _confirm(client, token, reader.email.upper())
    assert same_as_email.status_code == 422
    assert _confirm(client, token).status_code == 204


def test_a_reset_proves_the_mailbox_of_an_unverified_account(client, mailbox):
    from tests.support.app import create_user

    create_user("late@example.org", verified=False)
    _ask(client, "late@example.org")
    assert _confirm(client, mailbox.token("reset", to="late@example.org")).status_code == 204
    assert password_login(client, "late@example.org", NEW_PASSWORD).status_code == 200


def test_made_up_reset_tokens_are_400(client):
    response = _confirm(client, "made-up-token")
    assert response.status_code == 400
    assert response.json() == {"detail": "This link is invalid or has expired."}


def test_a_dead_reset_link_is_refused_before_any_argon2_hash(client, mailbox, reader, monkeypatch):
    """Made-up, spent and expired links cost a lookup: argon2 (observed on argon2-cffi, the
    library pwdlib calls) runs only for a link that can still be spent."""
    hashed: list[str] = []
    original = argon2.PasswordHasher.hash

    def spy(self, password, *args, **kwargs):  # type: ignore[no-untyped-def]
        hashed.append(password)
        return original(self, password, *args, **kwargs)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", spy)
    assert _confirm(client, "made-up-token").status_code == 400
    _ask(client, reader.email)
    token = mailbox.token("reset", to=reader.email)
    assert _confirm(client, token).status_code == 204
    assert hashed == [NEW_PASSWORD]
    assert _confirm(client, token, "a second new passphrase").status_code == 400  # spent
    assert hashed == [NEW_PASSWORD]
