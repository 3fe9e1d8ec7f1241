"""What astreinte writes to disk is its own: the SQLite file and its WAL, the secret key, the nightly
dump are 0600 whatever the umask, and the systemd units set UMask=0077."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from sqlalchemy import text

import models
from wsgi import create_app

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_file_its_wal_and_the_secret_key_are_0600_under_a_loose_umask(tmp_path, monkeypatch):
    """Before: 0644, readable by every account on the machine; the key chmod-ed after it was written."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    old = os.umask(0o022)
    try:
        db = tmp_path / "instance" / "astreinte.db"
        app = create_app(
            {"INSTANCE": tmp_path / "instance", "DATABASE_URL": f"sqlite:///{db}", "TESTING": True}
        )
        engine = app.extensions["engine"]
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            wal = db.with_name(db.name + "-wal")
            assert wal.exists()
            assert _mode(wal) == 0o600
        assert _mode(db) == 0o600
        assert _mode(tmp_path / "instance" / "secret_key") == 0o600
        engine.dispose()
    finally:
        os.umask(old)


def test_an_older_database_file_loses_its_group_and_other_bits(tmp_path):
    db = tmp_path / "old.db"
    db.write_bytes(b"")
    db.chmod(0o644)
    models.make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600


def test_the_nightly_dump_is_0600(tmp_path):
    """Before: 0644. A stand-in pg_dump writes the file where backup.sh asks."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pg_dump"
    fake.write_text('#!/bin/sh\nfor a; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done\n')
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BACKUP_DIR": str(tmp_path / "backups"),
        "RECORDINGS_DIR": str(tmp_path / "none"),
        "DATABASE_URL": "postgresql+psycopg://astreinte@127.0.0.1/astreinte",
    }
    done = subprocess.run(
        ["sh", "-c", f"umask 022; sh {DEPLOY / 'backup.sh'}"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    [day] = list((tmp_path / "backups").iterdir())
    assert _mode(day / "astreinte.dump") == 0o600 and _mode(day) == 0o700


def test_every_systemd_service_sets_umask_0077():
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        assert "\nUMask=0077\n" in unit.read_text(), unit.name
