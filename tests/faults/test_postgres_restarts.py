"""PostgreSQL restarts under `astreinte serve`: the application reconnects by itself, a call in
progress keeps its message, and a webhook that could not commit still answers valid TwiML.

The machine's PostgreSQL is shared: this starts a private one (initdb, pg_ctl of PostgreSQL 15) in a
temporary directory on its own port, and skips when those binaries are not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from devtools.simulator import Phone

from ..conftest import AUTH_TOKEN, ORG_FILE, PUBLIC_BASE_URL, ROOT
from ..phone import up_to_the_beep
from ..processes import astreinte, free_port, stop, wait_for

pytestmark = pytest.mark.slow

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: initdb, start, stop, restart."""

    def __init__(self, base: Path) -> None:
        self.base, self.data, self.port = base, base / "data", free_port()
        # PostgreSQL refuses to run as root: the cluster belongs to the `postgres` user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.base, "postgres")
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"no PostgreSQL 15 binaries in {PG_BIN}: the restart test needs a private cluster")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL will not start as root")
    base = Path(tempfile.mkdtemp(prefix="astreinte-pg-"))
    pg = PrivatePostgres(base)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def serve(postgres: PrivatePostgres, redis_url: str, tmp_path: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "ASTREINTE_OUTBOX": "1",  # an https address without Twilio credentials: the outbox on purpose
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "ASTREINTE_INSTANCE": str(tmp_path / "instance"),
    }
    env.pop("TWILIO_ACCOUNT_SID", None)
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["business_hours"], doc["closures"] = {}, []  # the wall clock's hour: always the astreinte
    org = tmp_path / "org.yaml"
    org.write_text(yaml.safe_dump(doc, allow_unicode=True))
    subprocess.run(astreinte("db", "upgrade"), env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(astreinte("load", str(org)), env=env, cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        astreinte("serve", "--port", str(port)), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_healthy(base, 30), (tmp_path / "serve.log").read_text()[-3000:]
        yield base
    finally:
        stop(proc)


def _healthz(base: str) -> int:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=3) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def _wait_healthy(base: str, seconds: float) -> bool:
    return bool(wait_for(lambda: _healthz(base) == 200, seconds, every=0.2))


def test_postgres_restarting_under_serve_loses_no_message(postgres, serve):
    phone = Phone(serve, AUTH_TOKEN, PUBLIC_BASE_URL, support_number="+33272646172")
    before = up_to_the_beep(phone)  # a caller at the beep when the database restarts
    postgres.stop()
    assert _healthz(serve) == 503  # the database is down, and health says so
    status, body = phone.send(
        "/voice/caller/recording",
        {"CallSid": "CA" + "7" * 32, "RecordingSid": "RE" + "7" * 32, "RecordingStatus": "completed"},
    )
    assert status == 200 and body.startswith("<?xml")  # valid TwiML, never a 500 page to Twilio
    postgres.start()
    assert _wait_healthy(serve, 15), "the application did not reconnect by itself"
    before.record(seconds=20).press("1")
    before.expect("au plus tard dans 30 minutes")
    after = up_to_the_beep(phone).record(seconds=15).press("1")
    after.expect("au plus tard dans 30 minutes")
    out = subprocess.run(
        [*(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []), str(PG_BIN / "psql"),
         "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-Atc",
         "select count(*) from voicemail v join callout c on c.voicemail_id = v.id"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "2"  # both messages kept, both callouts open
