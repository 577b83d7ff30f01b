"""Refresh tokens: rotated on each use, a reused one kills its family, logout kills it too."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from app.db import session_scope
from app.models import RefreshToken, utcnow
from tests.accounts.conftest import bearer, password_login


def _refresh(client, token: str):  # noqa: ANN202
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def test_refresh_rotates_the_token(client, reader):
    first = password_login(client, reader.email, reader.password).json()
    second = _refresh(client, first["refresh_token"])
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["token_type"] == "bearer"
    assert client.get("/api/v1/me", headers=bearer(pair)).status_code == 200
    assert _refresh(client, pair["refresh_token"]).status_code == 200


def test_reusing_a_rotated_token_revokes_the_whole_family(client, reader):
    first = password_login(client, reader.email, reader.password).json()
    other_device = password_login(client, reader.email, reader.password).json()
    second = _refresh(client, first["refresh_token"]).json()

    replay = _refresh(client, first["refresh_token"])
    assert replay.status_code == 401
    assert replay.json() == {"detail": "Invalid or expired refresh token"}
    # The thief's replay also ends the legitimate holder's newest token of that family...
    assert _refresh(client, second["refresh_token"]).status_code == 401
    # ...but not another sign-in's family.
    assert _refresh(client, other_device["refresh_token"]).status_code == 200


def test_concurrent_refreshes_with_one_token_yield_at_most_one_pair(client, reader):
    token = password_login(client, reader.email, reader.password).json()["refresh_token"]
    attempts = 6
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        status = _refresh(client, token).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(set(statuses)) <= [200, 401], statuses
    assert statuses.count(200) <= 1, statuses
    assert len(statuses) == attempts
    with session_scope(write=False) as session:
        rotated = session.query(RefreshToken).filter(RefreshToken.rotated_at.is_not(None)).count()
    assert rotated == 1


def test_logout_revokes_the_family(client, reader):
    pair = password_login(client, reader.email, reader.password).json()
    rotated = _refresh(client, pair["refresh_token"]).json()
    assert (
        client.post(
            "/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}
        ).status_code
        == 204
    )
    assert _refresh(client, rotated["refresh_token"]).status_code == 401
    # An unknown token logs nothing out and says nothing either.
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": "not-a-token"}).status_code == 204
    )


def test_an_expired_refresh_token_is_refused(client, reader):
    pair = password_login(client, reader.email, reader.password).json()
    with session_scope() as session:
        session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert _refresh(client, pair["refresh_token"]).status_code == 401


def test_bad_refresh_bodies_are_4xx(client):
    for body in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 5000}, {"refresh_token": 5}):
        response = client.post("/api/v1/auth/refresh", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert _refresh(client, "made-up").status_code == 401


def test_logout_ends_that_sessions_access_token_at_once(client, reader):
    laptop = password_login(client, reader.email, reader.password).json()
    phone = password_login(client, reader.email, reader.password).json()
    logout = client.post("/api/v1/auth/logout", json={"refresh_token": laptop["refresh_token"]})
    assert logout.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(laptop)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(phone)).status_code == 200


def test_a_replayed_refresh_token_ends_the_familys_access_tokens_too(client, reader):
    first = password_login(client, reader.email, reader.password).json()
    other_device = password_login(client, reader.email, reader.password).json()
    second = _refresh(client, first["refresh_token"]).json()
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    assert _refresh(client, first["refresh_token"]).status_code == 401  # the replay
    for pair in (first, second):
        assert client.get("/api/v1/me", headers=bearer(pair)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(other_device)).status_code == 200
