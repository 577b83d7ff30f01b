"""R-DB1: the models and `alembic upgrade head` agree; the OpenAPI document has no 5xx."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import get_engine
from app.models import include_name, metadata


def test_models_and_migrations_agree():
    with get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, metadata) == []
