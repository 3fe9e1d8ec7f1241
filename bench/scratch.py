"""A scratch application for the in-process benchmarks (bench/steps.py, bench/sql_counts.py): the
example organisation, migrated afresh onto DATABASE_URL (EMPTIED) or a SQLite file under `tmp`."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

import models

ROOT = Path(__file__).resolve().parent.parent
STEP2_AFTER = 3  # seconds: the second policy step, to measure how late steps fire


def bench_org() -> dict[str, Any]:
    """examples/org.yaml, always after hours, its policy shortened to measure step lateness."""
    doc = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text(encoding="utf-8"))
    doc["business_hours"], doc["holidays"], doc["closures"] = {}, [], []
    doc["astreinte"]["policy"] = [
        {"after": "0s", "notify": "primary", "by": ["sms", "voice"]},
        {"after": f"{STEP2_AFTER}s", "notify": "primary", "by": ["voice"]},
        {"after": "10m", "notify": "backup", "by": ["sms", "voice"]},
    ]
    return doc  # type: ignore[no-any-return]


def scratch_app(tmp: Path, name: str, token: str, public: str, **config: Any) -> Any:
    os.environ.setdefault("ASTREINTE_INSTANCE", str(tmp))
    import wsgi  # noqa: PLC0415 - after ASTREINTE_INSTANCE: the instance folder is read on import
    from org.load import load  # noqa: PLC0415

    app = wsgi.create_app(
        {
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / f'{name}.db'}",
            "TASKS_INLINE": True,
            "TWILIO_OUTBOX": True,
            "TWILIO_AUTH_TOKEN": token,
            "PUBLIC_BASE_URL": public,
            "SECRET_KEY": f"{name}-secret",
            **config,
        }
    )
    with app.app_context():
        engine = app.extensions["engine"]
        models.Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        wsgi.upgrade_database()
        load(bench_org())
        models.session.remove()
    return app


def free_port() -> int:
    """A TCP port nobody listens on now, on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
