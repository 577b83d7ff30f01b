"""Magic-link sign-in: a link and a 6-digit code, mail-scanner grace, attempts and email caps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.db import session_scope
from app.models import OneTimeToken, OutboxEmail, utcnow
from tests.accounts.conftest import bearer, count
from tests.support.app import create_user


def _ask(client, email: str):  # noqa: ANN202
    return client.post("/api/v1/auth/magic-link", json={"email": email})


def _confirm(client, **body: str):  # noqa: ANN202
    return client.post("/api/v1/auth/magic-link/confirm", json=body)


def _shift(**columns: timedelta) -> None:
    """Moves the magic link's timestamps into the past, as if time had passed."""
    with session_scope() as session:
        session.execute(
            update(OneTimeToken).values(
                **{name: utcnow() - delta for name, delta in columns.items()}
            )
        )


def test_the_email_carries_a_link_and_a_code_that_sign_in(client, mailbox, reader):
    assert _ask(client, reader.email).status_code == 202
    token = mailbox.token("magic", to=reader.email)
    code = mailbox.code(to=reader.email)
    by_link = _confirm(client, token=token)
    assert by_link.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(by_link.json())).status_code == 200

    _ask(client, reader.email)
    second_code = mailbox.code(to=reader.email)
    assert second_code != code or mailbox.token("magic", to=reader.email) != token
    by_code = _confirm(client, email=reader.email.upper(), code=second_code)
    assert by_code.status_code == 200
    assert _confirm(client, email=reader.email, code=second_code).status_code == 401


def test_unknown_addresses_get_the_same_202_and_no_email(client, mailbox, reader):
    known = _ask(client, reader.email)
    unknown = _ask(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    mailbox.deliver()
    assert mailbox.to("nobody@example.org") == []


def test_a_link_opened_by_a_mail_scanner_still_works_for_ten_minutes(client, mailbox, reader):
    _ask(client, reader.email)
    token = mailbox.token("magic", to=reader.email)
    assert _confirm(client, token=token).status_code == 200  # the scanner
    _shift(first_used_at=timedelta(minutes=9))
    assert _confirm(client, token=token).status_code == 200  # the reader, minutes later
    _shift(first_used_at=timedelta(minutes=10, seconds=1))
    late = _confirm(client, token=token)
    assert late.status_code == 401
    assert late.json() == {"detail": "Invalid or expired sign-in link or code."}


def test_an_unused_link_expires_after_15_minutes(client, mailbox, reader):
    _ask(client, reader.email)
    token = mailbox.token("magic", to=reader.email)
    _shift(expires_at=timedelta(seconds=1))
    assert _confirm(client, token=token).status_code == 401


def test_five_wrong_codes_kill_the_code(client_with, mailbox, reader):
    client = client_with(login_failures_per_account=100)
    _ask(client, reader.email)
    code = mailbox.code(to=reader.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert _confirm(client, email=reader.email, code=wrong).status_code == 401
    assert _confirm(client, email=reader.email, code=code).status_code == 401


def test_code_guesses_count_towards_the_account_lockout(client, mailbox, reader):
    _ask(client, reader.email)
    for guess in range(5):
        _confirm(client, email=reader.email, code=f"{guess:06d}")
    assert _confirm(client, email=reader.email, code="000009").status_code == 429


def test_a_magic_link_verifies_an_unverified_account(client, mailbox):
    create_user("new@example.org", verified=False)
    _ask(client, "new@example.org")
    pair = _confirm(client, token=mailbox.token("magic", to="new@example.org")).json()
    assert client.get("/api/v1/me", headers=bearer(pair)).json()["email_verified"] is True


def test_repeated_requests_send_at_most_three_emails_an_hour(client, mailbox, reader):
    answers = [_ask(client, reader.email) for _ in range(6)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    mailbox.deliver()
    assert len(mailbox.to(reader.email)) == 3
    assert count(OutboxEmail) == 3
    # The cap is per kind: a reset can still be sent.
    client.post("/api/v1/auth/password-reset", json={"email": reader.email})
    mailbox.deliver()
    assert len(mailbox.to(reader.email)) == 4
    # An hour later the address may receive magic links again.
    with session_scope() as session:
        session.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(hours=1)))
    _ask(client, reader.email)
    mailbox.deliver()
    assert len(mailbox.to(reader.email)) == 5


def test_confirm_needs_a_token_or_an_email_and_a_six_digit_code(client):
    for body in (
        {},
        {"email": "a@example.org"},
        {"code": "123456"},
        {"email": "a@example.org", "code": "12345"},
        {"token": "abc", "email": "a@example.org", "code": "123456"},
    ):
        response = _confirm(client, **body)
        assert response.status_code == 422, body
        assert response.json()["detail"]


def test_a_disabled_account_gets_no_link(client, mailbox):
    create_user("off@example.org", disabled=True)
    assert _ask(client, "off@example.org").status_code == 202
    mailbox.deliver()
    assert mailbox.to("off@example.org") == []
