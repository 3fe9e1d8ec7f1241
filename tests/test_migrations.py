"""`astreinte db upgrade` builds exactly the schema that models.py declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import models
from tests.conftest import scratch_postgres
from wsgi import create_app, upgrade_database


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_postgres(url, "astreinte_migrations") as scratch:
        yield scratch


def test_migrations_build_the_schema_of_the_models(tmp_path: Path, empty_database_url: str):
    app = create_app({"INSTANCE": tmp_path, "DATABASE_URL": empty_database_url, "TESTING": True})
    with app.app_context():
        upgrade_database()
        upgrade_database()  # a second upgrade is a no-op
    app.extensions["engine"].dispose()
    engine = create_engine(models.make_engine(empty_database_url).url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), models.Base.metadata
        )
    engine.dispose()
    assert diff == [], "models.py changed without a migration: " + repr(diff)
