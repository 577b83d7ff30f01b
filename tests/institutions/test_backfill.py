"""Migration 0014 copies the ranges and domains of organizations that existed before it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.access import Anonymous, Member
from app.cli import _alembic_config
from app.holdings import matching_licences
from app.models import utcnow


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own (migrated here step by step), on the suite's kind of server."""
    server = os.environ.get("FOLIO_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'backfill.db'}"
        return
    url = make_url(server).set(drivername="postgresql+psycopg")
    name = f"folio_backfill_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_existing_organizations_are_found_after_the_upgrade(database_url: str) -> None:
    from alembic import command

    config = _alembic_config()
    config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "0013")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tiers (slug, name, description, all_collections, active, created_at)"
                " VALUES ('campus', 'Campus', '', true, true, CURRENT_TIMESTAMP)"
            )
        )
        for name, domains, ranges in (
            ("Old University", '["uni.example.edu"]', '["192.0.2.0/24", "2001:db8:42::/48"]'),
            ("Old Library", '["Library.Example.org"]', '["198.51.100.9/32"]'),
            ("Nothing", "[]", "[]"),
        ):
            connection.execute(
                text(
                    "INSERT INTO organizations (name, tier_id, email_domains, ip_ranges, notes,"
                    " created_at, updated_at) SELECT :name, id, :domains, :ranges, '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM tiers WHERE slug = 'campus'"
                ),
                {"name": name, "domains": domains, "ranges": ranges},
            )
    command.upgrade(config, "head")
    now = utcnow()
    with Session(engine) as session:

        def names(viewer: Anonymous | Member) -> list[str]:
            return [m.name for m in matching_licences(session, viewer, now)]

        assert names(Anonymous(client_ip="192.0.2.77")) == ["Old University"]
        assert names(Anonymous(client_ip="2001:db8:42::1")) == ["Old University"]
        assert names(Anonymous(client_ip="198.51.100.9")) == ["Old Library"]
        assert names(Anonymous(client_ip="198.51.100.8")) == []
        member = Member(1, "ann@news.library.example.org", "reader", True)
        assert names(member) == ["Old Library"]
    engine.dispose()
