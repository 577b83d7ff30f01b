"""Settings and the engine: production refuses weak secrets; SQLite runs WAL with FKs on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from app.config import DEFAULT_SECRET_KEY, Settings
from app.db import build_engine


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret"])
def test_production_refuses_default_or_short_secret(secret):
    with pytest.raises(ValidationError, match="FOLIO_SECRET_KEY"):
        Settings(env="production", secret_key=secret)


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
