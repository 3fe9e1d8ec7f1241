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
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the old one: with foreign keys enforced, a
            # table other rows point at (callout, page) cannot be dropped once it holds data.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                context.configure(
                    connection=connection,
                    target_metadata=models.Base.metadata,
                    render_as_batch=sqlite,
                    compare_type=True,
                )
                context.run_migrations()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


run()
