"""What docs/deploy.md ships in deploy/: systemd units that `systemd-analyze verify` accepts, the
number's static fallback TwiML (French first, a message recorded at Twilio, then thanks), and the
backup script with the restore the document describes, run against PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from .conftest import ROOT
from .processes import astreinte

DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path):
    # The units name /opt/astreinte/venv: verify them against this checkout's executables.
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/astreinte/venv/bin/", f"{ROOT}/.venv/bin/")
        text = text.replace("/opt/astreinte/deploy/", f"{DEPLOY}/")
        (tmp_path / unit.name).write_text(text)
    (tmp_path / "astreinte-worker@1.service").write_text((tmp_path / "astreinte-worker@.service").read_text())
    units = [
        "astreinte-web.service",
        "astreinte-worker@1.service",
        "astreinte-migrate.service",
        "astreinte.target",
        "astreinte-backup.service",
        "astreinte-backup.timer",
    ]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_fallback_twiml_records_a_message_at_twilio_and_thanks_the_caller():
    fallback = ET.parse(DEPLOY / "twilio" / "fallback.xml").getroot()
    verbs = [child.tag for child in fallback]
    assert verbs == ["Say", "Say", "Record", "Say", "Hangup"]
    assert fallback[0].get("language") == "fr-FR" and "problème technique" in (fallback[0].text or "")
    record = fallback[2]
    assert (
        record.get("action", "").endswith("/fallback-thanks.xml") and int(record.get("maxLength", "0")) >= 60
    )
    # when a host answers again, it hears of each message at once (the sweeper finds the rest)
    assert record.get("recordingStatusCallback", "").endswith("/voice/fallback/recording")
    assert record.get("recordingStatusCallbackEvent") == "completed"
    thanks = ET.parse(DEPLOY / "twilio" / "fallback-thanks.xml").getroot()
    assert [child.tag for child in thanks] == ["Say", "Hangup"]


@pytest.fixture
def two_databases() -> Iterator[tuple[str, str]]:
    """A production-like database and an empty one to restore into, on the suite's PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql") or shutil.which("pg_dump") is None:
        pytest.skip("backup.sh backs up PostgreSQL: run with DATABASE_URL=postgresql… and pg_dump installed")
    server = url.rsplit("/", 1)[0]
    names = [f"astreinte_{what}_{os.getpid()}" for what in ("live", "restored")]
    admin = psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True)
    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{names[0]}", f"{server}/{names[1]}"
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _astreinte(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(astreinte(*args), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for table in ("organisation", "person", "client", "ticket", "alembic_version")
        }


def test_backup_sh_saves_the_database_and_recordings_and_the_restore_of_deploy_md_brings_them_back(
    tmp_path: Path, two_databases: tuple[str, str]
):
    live, restored = two_databases
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "RE0123.wav").write_bytes(b"RIFF a message")
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=live, ASTREINTE_INSTANCE=str(tmp_path / "instance"))
    _astreinte(env, "db", "upgrade")
    _astreinte(env, "load", str(ROOT / "examples" / "org.yaml"))

    backups = tmp_path / "backups"
    env.update(BACKUP_DIR=str(backups), RECORDINGS_DIR=str(recordings))
    done = subprocess.run(["sh", str(DEPLOY / "backup.sh")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [day] = list(backups.iterdir())
    assert done.stdout.strip() == f"backup written to {day}"

    # docs/deploy.md, "Restore": pg_restore, the recordings untarred, astreinte db upgrade.
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "-d", restored.replace("+psycopg", ""),
         str(day / "astreinte.dump")],
        check=True, capture_output=True,
    )  # fmt: skip
    back = tmp_path / "restored-recordings"
    back.mkdir()
    subprocess.run(["tar", "-C", str(back), "-xzf", str(day / "recordings.tar.gz")], check=True)
    env.update(DATABASE_URL=restored)
    assert "database up to date" in _astreinte(env, "db", "upgrade")
    assert _counts(restored) == _counts(live)
    assert _counts(restored)["ticket"] > 0
    assert (back / "RE0123.wav").read_bytes() == b"RIFF a message"


SERVICES = [
    "astreinte-web.service",
    "astreinte-worker@.service",
    "astreinte-migrate.service",
    "astreinte-backup.service",
]


def _exposure(unit: Path) -> float:
    """`systemd-analyze security --offline=true` on one unit file: its overall exposure (0 to 10)."""
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", unit.name],
        cwd=unit.parent,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_every_service_scores_under_5_in_systemd_analyze_security_and_writes_private_files(tmp_path: Path):
    for name in SERVICES:
        text = (DEPLOY / "systemd" / name).read_text()
        assert "\nUMask=0077\n" in text, name
        unit = tmp_path / name.replace("@.", "@1.")
        unit.write_text(text)
        assert _exposure(unit) < 5, name


def _install(destdir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(DEPLOY / "install.sh")],
        env={**os.environ, "DESTDIR": str(destdir), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_install_script_puts_everything_under_the_prefix_asked_for_and_keeps_the_configuration(
    tmp_path: Path,
):
    root = tmp_path / "root"
    paths = {"PREFIX": "/srv/desk", "STATE_DIR": "/srv/desk-state", "CONFIG_DIR": "/srv/desk-etc"}
    done = _install(root, **paths)
    assert done.returncode == 0, done.stderr
    web = (root / "etc/systemd/system/astreinte-web.service").read_text()
    assert "ExecStart=/srv/desk/venv/bin/astreinte serve" in web
    assert "EnvironmentFile=/srv/desk-etc/astreinte.env" in web and "WorkingDirectory=/srv/desk-state" in web
    for unit in (root / "etc/systemd/system").iterdir():
        assert "/opt/astreinte" not in unit.read_text() and "/var/lib/astreinte" not in unit.read_text(), unit
    assert (root / "srv/desk/examples/org.yaml").read_text() == (ROOT / "examples" / "org.yaml").read_text()
    assert (root / "srv/desk/deploy/backup.sh").exists() and (root / "srv/desk/docs/deploy.md").exists()
    assert (root / "srv/desk-etc/org.yaml").exists()
    env_file = root / "srv/desk-etc/astreinte.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o640"

    env_file.write_text("PUBLIC_BASE_URL=https://desk.example.test\n")  # the operator's settings
    again = _install(root, **paths)
    assert again.returncode == 0, again.stderr
    assert env_file.read_text() == "PUBLIC_BASE_URL=https://desk.example.test\n"
    assert "wrote" not in again.stdout
    if shutil.which("systemd-analyze"):
        assert _exposure(root / "etc/systemd/system/astreinte-backup.service") < 5


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool is not installed (apt-get install prometheus)"
)
def test_the_prometheus_rules_load_and_fire_when_they_should():
    rules = DEPLOY / "prometheus"
    checked = subprocess.run(
        ["promtool", "check", "rules", "astreinte.rules.yml"], cwd=rules, capture_output=True, text=True
    )
    assert checked.returncode == 0 and "SUCCESS: 5 rules found" in checked.stdout, (
        checked.stdout + checked.stderr
    )
    tested = subprocess.run(
        ["promtool", "test", "rules", "astreinte.rules.test.yml"], cwd=rules, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
