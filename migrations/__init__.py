"""The schema's history (Alembic). `upgrade(engine)` brings a database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def upgrade(engine: Engine) -> None:
    """Apply every migration to `engine`'s database (a SQLite file's folder is created first)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "head")
