"""A throw-away world for `astreinte call` and `astreinte demo`: a temporary SQLite file, jobs run in
this process, Twilio replaced by the local outbox. A simulation never reaches the live database, the
live queue or a real phone (a walk through the IVR once paged a whole on-call chain for real)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

import migrations
import models
from models import Organisation, session
from org.load import load, read_file

log = logging.getLogger(__name__)

EXAMPLE_ORG = Path(__file__).resolve().parent.parent / "examples" / "org.yaml"

# What the simulation replaces, restored when it ends.
_CONFIG = (
    "DATABASE_URL",
    "REDIS_URL",
    "TASKS_INLINE",
    "TWILIO_OUTBOX",
    "TWILIO_ACCOUNT_SID",
    "RECORDINGS_DIR",
)
_CACHED = ("engine", "redis", "twilio", "org")


def live_organisation(app: Flask) -> Any | None:
    """The organisation document loaded in the live database, read only; None when there is none (a
    SQLite file that does not exist yet is not created)."""
    engine = app.extensions["engine"]
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and not Path(database).exists():
        return None
    try:
        return session.scalar(select(Organisation.config).limit(1))
    except SQLAlchemyError:
        return None
    finally:
        session.remove()


def example_organisation() -> Any:
    return read_file(EXAMPLE_ORG)


def recordings_beside(database: Path) -> Path:
    """Where the recordings of a simulation kept in `database` (`--keep FILE`) are left."""
    return database.with_name(f"{database.stem}-recordings")


@contextmanager
def throwaway(app: Flask, org_document: Any, keep: Path | None = None) -> Iterator[Path]:
    """Run the body on a fresh SQLite database holding `org_document`, with jobs inline and Twilio in
    outbox mode; the live database, queue and Twilio settings come back afterwards. The file is
    deleted unless `keep` names where to leave it."""
    saved_config = {key: app.config.get(key) for key in _CONFIG}
    # The script is the output: the application's INFO lines would bury it (LOG_LEVEL set keeps them).
    root = logging.getLogger()
    saved_level = root.level
    if not os.environ.get("LOG_LEVEL"):
        root.setLevel(max(saved_level, logging.WARNING))
    saved_cache = {key: app.extensions.pop(key) for key in _CACHED if key in app.extensions}
    folder = Path(tempfile.mkdtemp(prefix="astreinte-simulation-"))
    path = keep.resolve() if keep else folder / "simulation.db"
    if keep and path.exists():
        path.unlink()
    engine = models.make_engine(f"sqlite:///{path}")
    try:
        migrations.upgrade(engine)
        models.bind(engine)
        app.extensions["engine"] = engine
        app.config.update(
            DATABASE_URL=str(engine.url),
            REDIS_URL=f"unix://{folder / 'no-queue.sock'}",  # nothing listens: no job reaches a worker
            TASKS_INLINE=True,
            TWILIO_OUTBOX=True,
            TWILIO_ACCOUNT_SID=None,
            # Kept beside a kept database, so that its players play in the dashboard.
            RECORDINGS_DIR=recordings_beside(path) if keep else folder / "recordings",
        )
        g.pop("org", None)
        load(org_document)
        yield path
    finally:
        root.setLevel(saved_level)
        session.remove()
        engine.dispose()
        for key in _CACHED:
            app.extensions.pop(key, None)
        app.extensions.update(saved_cache)
        app.config.update(saved_config)
        g.pop("org", None)
        models.bind(app.extensions["engine"])
        shutil.rmtree(folder, ignore_errors=True)
