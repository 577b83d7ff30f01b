"""Password sign-in: one answer for unknown and wrong, lockouts per account and per IP (R-S3)."""

from __future__ import annotations

import os
import time
import uuid

import argon2
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.accounts.conftest import password_login
from tests.support.app import create_user

WRONG = "not the password at all"


def test_login_returns_an_access_and_a_refresh_token(client, reader):
    response = password_login(client, reader.email, reader.password)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert response.headers["cache-control"] == "no-store"


def test_unknown_email_and_wrong_password_get_the_same_401(client, reader):
    unknown = password_login(client, "nobody@example.org", WRONG)
    wrong = password_login(client, reader.email, WRONG)
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"detail": "Incorrect email or password"}
    assert unknown.headers.get("www-authenticate") == wrong.headers.get("www-authenticate")


def test_an_unknown_email_costs_the_same_argon2_verification_as_a_wrong_password(
    client, reader, monkeypatch
):
    # Observed on argon2-cffi (the library pwdlib calls), not timed: no wall clock in tests.
    verified: list[str] = []
    original = argon2.PasswordHasher.verify

    def spy(self, hash, password):  # noqa: ANN001, ANN202, A002
        verified.append(hash if isinstance(hash, str) else hash.decode())
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    assert password_login(client, "nobody@example.org", WRONG).status_code == 401
    assert password_login(client, reader.email, WRONG).status_code == 401
    unknown, wrong = verified
    # "$argon2id$v=19$m=19456,t=2,p=1$…": same algorithm, version and cost parameters.
    assert unknown.split("$")[1:4] == wrong.split("$")[1:4]


def test_unverified_and_disabled_accounts_get_403(client):
    create_user("unverified@example.org", verified=False)
    create_user("disabled@example.org", disabled=True)
    unverified = password_login(client, "unverified@example.org", "correct horse battery staple")
    disabled = password_login(client, "disabled@example.org", "correct horse battery staple")
    assert unverified.status_code == disabled.status_code == 403
    assert "Verify" in unverified.json()["detail"]
    assert "disabled" in disabled.json()["detail"]


def test_six_wrong_passwords_lock_the_account_even_for_the_right_one(client, make_account):
    victim = make_account("victim@example.org")
    bystander = make_account("bystander@example.org")
    for _ in range(5):
        assert password_login(client, victim.email, WRONG).status_code == 401
    locked = password_login(client, victim.email, WRONG)
    assert locked.status_code == 429
    assert 850 <= int(locked.headers["retry-after"]) <= 900
    assert password_login(client, victim.email, victim.password).status_code == 429
    # Case and spacing do not open a second counter for the same account.
    assert password_login(client, " VICTIM@example.org", victim.password).status_code == 429
    assert password_login(client, bystander.email, bystander.password).status_code == 200


def test_the_lock_lifts_when_the_window_passes(client_with, make_account):
    victim = make_account("victim@example.org")
    # One failure locks: five argon2 checks could outlast a 1 s window on a loaded machine.
    client = client_with(throttle_window_seconds=1, login_failures_per_account=1)
    assert password_login(client, victim.email, WRONG).status_code == 401
    assert password_login(client, victim.email, victim.password).status_code == 429
    time.sleep(1.1)
    assert password_login(client, victim.email, victim.password).status_code == 200


def test_unknown_emails_lock_like_known_ones(client):
    for _ in range(5):
        password_login(client, "ghost@example.org", WRONG)
    assert password_login(client, "ghost@example.org", WRONG).status_code == 429


def test_failures_from_one_ip_across_accounts_lock_that_ip_only(client_with, make_account):
    accounts = [make_account(f"user{i}@example.org") for i in range(4)]
    client = client_with(login_failures_per_ip=3, ip="198.51.100.7")
    for account in accounts[:3]:
        assert password_login(client, account.email, WRONG).status_code == 401
    assert password_login(client, accounts[3].email, accounts[3].password).status_code == 429
    elsewhere = TestClient(client.app, base_url="http://folio.test", client=("192.0.2.44", 1))
    assert password_login(elsewhere, accounts[3].email, accounts[3].password).status_code == 200


REDIS_URL = "redis://127.0.0.1:6379/0"


def _require_redis() -> None:
    """CI starts Redis and must run this; a developer machine without Redis skips it."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis at 127.0.0.1:6379 (CI starts one)")


def test_redis_throttle_is_shared_between_app_instances(client_with, make_account):
    _require_redis()
    victim = make_account("victim@example.org")
    shared = {
        "redis_url": REDIS_URL,
        "throttle_key_prefix": f"folio-test-{uuid.uuid4().hex}",
    }
    first = client_with(**shared)
    second = TestClient(create_app(), base_url="http://folio.test", client=("203.0.113.10", 1))
    try:
        for _ in range(3):
            assert password_login(first, victim.email, WRONG).status_code == 401
        for _ in range(2):
            assert password_login(second, victim.email, WRONG).status_code == 401
        assert password_login(first, victim.email, victim.password).status_code == 429
        assert password_login(second, victim.email, victim.password).status_code == 429
        assert type(first.app.state.throttle.storage).__name__ == "RedisStorage"
        assert first.app.state.throttle is not second.app.state.throttle
    finally:
        second.app.state.throttle.clear()


def test_requests_that_send_email_are_limited_per_ip(client_with):
    client = client_with(account_requests_per_ip=2)
    for i in range(2):
        response = client.post("/api/v1/auth/password-reset", json={"email": f"a{i}@example.org"})
        assert response.status_code == 202
    refused = client.post("/api/v1/auth/magic-link", json={"email": "a9@example.org"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert (
        client.post(
            "/api/v1/auth/register",
            json={"email": "b@example.org", "password": "long enough passphrase"},
        ).status_code
        == 429
    )


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_sign_ins_that_do_not_fail_give_their_count_back(client_with, make_account, store):
    settings = {}
    if store == "redis":
        _require_redis()
        settings = {"redis_url": REDIS_URL, "throttle_key_prefix": f"folio-{uuid.uuid4().hex}"}
    # Both counters at 5, so a refund missing from either (account or IP) locks the 6th.
    client = client_with(login_failures_per_ip=5, **settings)
    reader = make_account("often@example.org")
    try:
        for _ in range(7):  # each attempt is counted first: these must be given back
            assert password_login(client, reader.email, reader.password).status_code == 200
        for _ in range(5):
            assert password_login(client, reader.email, WRONG).status_code == 401
        assert password_login(client, reader.email, reader.password).status_code == 429
    finally:
        client.app.state.throttle.clear()


def test_wrong_current_passwords_on_me_count_towards_the_lockout(client, reader):
    for _ in range(5):
        wrong = client.patch(
            "/api/v1/me",
            headers=reader.headers,
            json={"current_password": WRONG, "password": "a new passphrase"},
        )
        assert wrong.status_code == 403
    right = client.patch(
        "/api/v1/me",
        headers=reader.headers,
        json={"current_password": reader.password, "password": "a new passphrase"},
    )
    assert right.status_code == 429
