"""Fixtures: a fresh database per test (SQLite by default, DATABASE_URL when set), a real Redis
server (REDIS_URL, or the embedded redis-server), the application, a movable clock, the org file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

import clock as clock_module
import models
import tasks
from org.load import load, read_file
from wsgi import create_app

pytest_plugins = ["tests.phone"]  # the fake phone: `phone`

ROOT = Path(__file__).resolve().parent.parent
ORG_FILE = ROOT / "examples" / "org.yaml"
PARIS = ZoneInfo("Europe/Paris")
PUBLIC_BASE_URL = "https://astreinte.example.test"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def paris(text_: str) -> datetime:
    """An aware instant from Paris local time: paris("2026-11-24 23:10")."""
    return datetime.strptime(text_, "%Y-%m-%d %H:%M").replace(tzinfo=PARIS)


@contextmanager
def scratch_postgres(url: str, prefix: str) -> Iterator[str]:
    """A PostgreSQL database of its own beside the one `url` names, dropped afterwards: its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = models.make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(models.make_engine(url).url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    proc, url = tasks.start_embedded_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = models.make_engine(url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    engine.dispose()
    return url


def _empty_tables(engine: Any) -> None:
    tables = list(reversed(models.Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app_config(tmp_path: Path, database_url: str, redis_url: str) -> dict[str, Any]:
    """Override keys in a test module with its own `app_config` fixture when needed."""
    return {
        "INSTANCE": tmp_path / "instance",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TASKS_INLINE": True,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": None,
        "TWILIO_OUTBOX": True,
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "RECORDINGS_DIR": tmp_path / "recordings",
        "TESTING": True,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    engine = app.extensions["engine"]
    _empty_tables(engine)
    redis.Redis.from_url(app_config["REDIS_URL"]).flushdb()
    with app.app_context():
        yield app
        models.session.remove()
    engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def org(app: Flask) -> Any:
    """The example organisation file, loaded."""
    load(read_file(ORG_FILE))
    from org.load import current_org

    return current_org()


class Clock:
    """The application's clock, frozen and moved by the test."""

    def set(self, at: datetime | str) -> datetime:
        clock_module.set(paris(at) if isinstance(at, str) else at)
        return clock_module.now()

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        return clock_module.advance(timedelta(**delta))

    def now(self) -> datetime:
        return clock_module.now()


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Frozen at Tuesday 24 November 2026, 23:10 in Paris: after hours, alice is primary."""
    c = Clock()
    c.set("2026-11-24 23:10")
    yield c
    clock_module.release()


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    yield
    clock_module.release()
