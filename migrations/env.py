"""Alembic environment: migrate the engine of the application (DATABASE_URL)."""

from __future__ import annotations

from alembic import context

import models

config = context.config


def run() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from wsgi import create_app

        engine = create_app().extensions["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=models.Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run()
