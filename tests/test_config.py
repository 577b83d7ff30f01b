"""Settings and the engine: production refuses weak secrets, an installation makes its own;
SQLite runs WAL with FKs on."""

from __future__ import annotations

import stat
import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from app.config import DEFAULT_SECRET_KEY, SECRET_FILE_NAME, Settings, get_settings
from app.db import build_engine


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret-never-echoed", ""])
def test_production_refuses_default_short_or_missing_secret(secret):
    with pytest.raises(ValidationError, match="FOLIO_SECRET_KEY") as refused:
        Settings(env="production", secret_key=secret)
    if secret:
        assert secret not in str(refused.value)


def test_production_does_not_generate_a_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("FOLIO_SECRET_KEY")
    with pytest.raises(ValidationError, match="FOLIO_SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path)
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_without_a_secret_key_an_installation_makes_its_own_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("FOLIO_SECRET_KEY")
    first = Settings(data_dir=tmp_path / "site").secret_key
    assert first != DEFAULT_SECRET_KEY and len(first) >= 32
    secret_file = tmp_path / "site" / SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "site").secret_key == first  # a restart keeps it
    assert Settings(data_dir=tmp_path / "elsewhere").secret_key != first
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [SECRET_FILE_NAME]


def test_workers_starting_together_agree_on_one_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("FOLIO_SECRET_KEY")
    start = threading.Barrier(8)
    seen: list[str] = []

    def worker() -> None:
        start.wait()
        seen.append(Settings(data_dir=tmp_path).secret_key)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(seen) == 8 and len(set(seen)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE_NAME]  # no drafts left


def test_a_token_signed_with_the_published_default_opens_nothing_on_a_default_install(
    monkeypatch, tmp_path
):
    from fastapi.testclient import TestClient
    from jose import jwt

    from app.accounts.tokens import issue_access_token
    from app.main import create_app
    from tests.support.app import bearer_for, create_user

    admin_id = create_user("admin@folio.test", role="admin")
    monkeypatch.delenv("FOLIO_SECRET_KEY")
    monkeypatch.setenv("FOLIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        genuine = bearer_for(admin_id)
        assert client.get("/api/v1/admin/tiers", headers=genuine).status_code == 200
        # The same live session, signed with the published default instead.
        session_id = jwt.get_unverified_claims(genuine["Authorization"].split()[1])["sid"]
        forged = issue_access_token(admin_id, session_id, Settings(secret_key=DEFAULT_SECRET_KEY))
        response = client.get("/api/v1/admin/tiers", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
    get_settings.cache_clear()


def test_production_accepts_a_long_random_secret():
    assert Settings(env="production", secret_key="k" * 48).env == "production"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FOLIO_PREVIEW_PARAGRAPHS", "5")
    monkeypatch.setenv("FOLIO_TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql://u@db/folio")
    settings = Settings()
    assert settings.preview_paragraphs == 5
    assert settings.trusted_proxies == ["10.0.0.0/8", "::1"]
    assert settings.database_url == "postgresql+psycopg://u@db/folio"


def test_a_bad_database_url_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgres//admin:hunter2-in-a-url@db")
    with pytest.raises(ValidationError, match="not a database URL") as refused:
        Settings()
    assert "hunter2" not in str(refused.value)


def test_bad_trusted_proxy_is_refused(monkeypatch):
    monkeypatch.setenv("FOLIO_TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(ValidationError):
        Settings()


def test_sqlite_engine_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from app import db
    from app.main import create_app

    monkeypatch.setattr(
        db, "get_engine", lambda: build_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    )
    monkeypatch.setattr("app.ops.get_engine", db.get_engine)
    with TestClient(create_app()) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["detail"]
