"""Alembic environment: migrate the engine of the application (DATABASE_URL)."""

from __future__ import annotations

import os

from alembic import context

import models

config = context.config


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # the alembic command line: DATABASE_URL says which database
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise SystemExit("set DATABASE_URL, or run `astreinte db upgrade`")
        engine = models.make_engine(url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=models.Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run()
