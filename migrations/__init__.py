"""The schema's history (Alembic). `upgrade(engine)` brings a database to the newest schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def upgrade(engine: Engine) -> None:
    """Apply every migration to `engine`'s database (a SQLite file's folder is created first)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(_config(engine), "head")


def _config(engine: Engine | None = None) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    """The newest revision this code knows."""
    return str(ScriptDirectory.from_config(_config()).get_current_head())


def current(engine: Engine) -> str | None:
    """The revision `engine`'s database is at; None when it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass(frozen=True)
class Revision:
    id: str
    down: str | None
    doc: str


def history() -> list[Revision]:
    """Every revision, newest first, with the first line of its docstring."""
    script = ScriptDirectory.from_config(_config())
    return [
        Revision(
            id=str(rev.revision),
            down=str(rev.down_revision) if rev.down_revision else None,
            doc=(rev.doc or "").strip().splitlines()[0] if rev.doc else "",
        )
        for rev in script.walk_revisions()
    ]


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations above `revision` (an id, `-1`, or `base`). Data in what they undo is lost."""
    command.downgrade(_config(engine), revision)
