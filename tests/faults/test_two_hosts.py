"""No single host: two astreinte hosts (`serve` + `worker` each) on one PostgreSQL and one Redis, behind
HAProxy, the number's webhooks pointed at the proxy. A storm of callers, and one host killed in the
middle (SIGKILL, every process of it): the other answers every call, every message is kept, every
callout paged once; the killed host comes back and takes calls again, paging nothing twice.

Real processes and a real proxy: PostgreSQL only (DATABASE_URL; a scratch database is made beside it),
and HAProxy from the distribution (`apt-get install haproxy`; .ci/run installs it). Skipped otherwise."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

import models
from devtools.simulator import Phone
from models import Callout, Channel, Page, PageTest, Voicemail

from ..conftest import AUTH_TOKEN, ORG_FILE, PARIS, ROOT, scratch_postgres
from ..phone import ISABELLE
from ..processes import astreinte, free_port, healthz, wait_for
from ..twilio_standin import fixtures

_app_config, twilio_server, _twilio = fixtures()

pytestmark = pytest.mark.slow

SUPPORT = "+33272646172"
CALLERS = 24  # over STORM_SECONDS; the kill comes a third of the way in
STORM_SECONDS = 18.0


@pytest.fixture
def scratch_database() -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("two hosts share one PostgreSQL: run with DATABASE_URL=postgresql+psycopg://…")
    with scratch_postgres(url, "astreinte_hosts") as scratch:
        yield scratch


@pytest.fixture
def haproxy() -> str:
    found = shutil.which("haproxy")
    if found is None:
        pytest.skip("no haproxy binary: apt-get install haproxy (.ci/run does) to run the two-host test")
    return found


class Host:
    """One astreinte host: `astreinte serve` and `astreinte worker`, each in a process group of its own."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.port, self.folder = name, free_port(), folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = {**env, "ASTREINTE_INSTANCE": str(self.folder / "instance")}
        self.procs: list[subprocess.Popen[bytes]] = []
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        for role, args in (("serve", ("serve", "--port", str(self.port))), ("worker", ("worker",))):
            with (self.folder / f"{role}-{self.starts}.log").open("wb") as log:
                self.procs.append(
                    subprocess.Popen(
                        astreinte(*args),
                        cwd=ROOT,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        assert wait_for(lambda: self.healthy(), 90, every=0.3), (
            f"host {self.name} did not start: {self.said()}"
        )

    def healthy(self) -> bool:
        try:
            return healthz(self.port)[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL to every process of the host (gunicorn's master and workers, the worker)."""
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait(timeout=30)
        self.procs = []

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []

    def said(self, role: str = "serve") -> str:
        return "\n".join(
            p.read_text(errors="replace")[-2000:] for p in sorted(self.folder.glob(f"{role}-*.log"))
        )


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def two_hosts(
    scratch_database: str, haproxy: str, redis_url: str, twilio_server, tmp_path: Path
) -> Iterator[tuple[str, Host, Host, Engine]]:
    proxy_port = free_port()
    public = f"http://127.0.0.1:{proxy_port}"
    env = {
        **os.environ,
        "DATABASE_URL": scratch_database,
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": public,
        "TWILIO_ACCOUNT_SID": twilio_server.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_server.auth_token,
        "TWILIO_API_BASE_URL": twilio_server.base_url,
        "SECRET_KEY": "two-hosts-secret-key-0123456789abcdef",
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "2",
        "PAGE_SMS_INTERVAL": "2",  # bundles leave within seconds: the test waits for every callout
        "PAGE_CALL_INTERVAL": "2",
        "LOG_LEVEL": "INFO",
    }
    redis.Redis.from_url(redis_url).flushdb()
    twilio_server.reset()
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["business_hours"], doc["closures"] = {}, []  # whatever the wall clock says: the astreinte
    local = datetime.now(PARIS)
    due = max(local - timedelta(minutes=1), local.replace(hour=0, minute=0))  # due now, on both sweepers
    doc["astreinte"]["self_test"] = {
        "at": due.strftime("%H:%M"),
        "notify": ["primary", "backup"],
        "by": ["sms"],
    }
    org = tmp_path / "org.yaml"
    org.write_text(yaml.safe_dump(doc, allow_unicode=True))
    for args in (("db", "upgrade"), ("load", str(org))):
        subprocess.run(astreinte(*args), cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    a, b = Host("a", env, tmp_path), Host("b", env, tmp_path)
    config = tmp_path / "haproxy.cfg"
    config.write_text(
        f"""
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 30s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
frontend line
    bind 127.0.0.1:{proxy_port}
    default_backend hosts
    http-response set-header X-Host %s
backend hosts
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    server a 127.0.0.1:{a.port} check
    server b 127.0.0.1:{b.port} check
"""
    )
    proxy = subprocess.Popen(
        [haproxy, "-db", "-f", str(config)],
        stdout=(tmp_path / "haproxy.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    engine = create_engine(scratch_database)
    try:
        assert wait_for(lambda: _listening(proxy_port), 30, every=0.2), (tmp_path / "haproxy.log").read_text()
        a.start()
        b.start()
        yield public, a, b, engine
    finally:
        a.stop()
        b.stop()
        proxy.terminate()
        proxy.wait(timeout=10)
        engine.dispose()


def _answered_by(public: str) -> str | None:
    """The host the proxy sent a request to (HAProxy names it in X-Host)."""
    try:
        with urllib.request.urlopen(public + "/healthz", timeout=5) as resp:
            return resp.headers.get("X-Host")
    except OSError:
        return None


class ThinkingPhone(Phone):
    """A caller who listens to each prompt before keying: calls last seconds, so the kill falls in
    the middle of some (their next request reaches a dead host first)."""

    def send(self, *args: Any, **kwargs: Any) -> tuple[int, str]:
        time.sleep(0.3)
        return super().send(*args, **kwargs)


def _caller(phone: Phone, failures: list[str]) -> None:
    try:
        call = phone.call(from_=ISABELLE)
        call.expect("numéro de requête").press("104233#")
        call.expect("code PIN").press("4821#")
        call.expect("nous vous rappellerons").press("1")
        call.expect("après le bip").record(seconds=20)
        call.press("1").expect("au plus tard dans 30 minutes")
    except Exception as exc:  # noqa: BLE001 - every lost call is reported
        failures.append(f"{type(exc).__name__}: {str(exc)[:300]}")


def _storm(phone: Phone, callers: int, seconds: float, midway: threading.Event | None = None) -> list[str]:
    failures: list[str] = []
    threads = []
    for i in range(callers):
        if midway is not None and i == callers // 3:
            midway.set()
        t = threading.Thread(target=_caller, args=(phone, failures), daemon=True)
        t.start()
        threads.append(t)
        time.sleep(seconds / callers)
    for t in threads:
        t.join(timeout=180)
    return failures


def _count(engine: Engine, model: type[models.Base]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _paged(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        messages = conn.scalar(select(func.count()).select_from(Voicemail))
        callouts = conn.scalar(select(func.count()).select_from(Callout))
        sms_sent = select(Page.callout_id).where(
            Page.channel == Channel.SMS, Page.step == 0, Page.twilio_sid.is_not(None)
        )
        unpaged = conn.scalar(select(func.count()).select_from(Callout).where(Callout.id.not_in(sms_sent)))
        twice = conn.scalar(
            select(func.count()).select_from(
                select(Page.callout_id)
                .where(Page.channel == Channel.SMS, Page.step == 0, Page.twilio_sid.is_not(None))
                .group_by(Page.callout_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        sids = set(
            conn.scalars(
                select(Page.twilio_sid).where(Page.channel == Channel.SMS, Page.twilio_sid.is_not(None))
            )
        )
    return {
        "messages": messages or 0,
        "callouts": callouts or 0,
        "unpaged": unpaged or 0,
        "twice": twice or 0,
        "sids": len(sids),
    }


def test_one_host_killed_in_a_storm_the_other_answers_every_call_and_pages_each_once(
    two_hosts, twilio_server
):
    public, a, b, engine = two_hosts
    # Both sweepers find tonight's evening test due: one test per person, one SMS each.
    tested = wait_for(lambda: _count(engine, PageTest) >= 2 or None, 60, every=0.5)
    assert tested, f"no evening test started:\n{b.said('worker')}"
    time.sleep(12)  # every sweeper had its turn (every 10 s)
    assert _count(engine, PageTest) == 2
    tests_sent = [m.to for m in twilio_server.messages]
    assert len(tests_sent) == len(set(tests_sent)) == 2, f"evening test SMS: {tests_sent}"

    phone = ThinkingPhone(public, AUTH_TOKEN, public, support_number=SUPPORT)
    midway = threading.Event()
    killer = threading.Thread(target=lambda: (midway.wait(60), a.kill()), daemon=True)
    killer.start()
    failures = _storm(phone, CALLERS, STORM_SECONDS, midway)
    killer.join(timeout=60)
    assert not a.procs, "host a was not killed"
    assert "POST /voice/" in (a.folder / "serve-1.log").read_text(errors="replace"), "the storm missed host a"
    assert failures == [], f"calls lost with host a killed: {failures[:3]}\nhost b said:\n{b.said()}"

    def settled() -> dict[str, int] | None:
        now = _paged(engine)
        return now if now["callouts"] == CALLERS and now["unpaged"] == 0 else None

    paged = wait_for(settled, 120, every=0.5)
    assert paged, f"not every message was paged: {_paged(engine)}\nworker b said:\n{b.said('worker')}"
    assert paged["messages"] == CALLERS and paged["twice"] == 0
    with engine.connect() as conn:
        paged_numbers = set(conn.scalars(select(Page.to_number).where(Page.channel == Channel.SMS)))
    texts = [m for m in twilio_server.messages[2:] if m.to in paged_numbers]  # after the evening tests
    assert len(texts) == paged["sids"], "an SMS reached a technician that no page knows of (sent twice)"

    a.start()  # host a comes back: the proxy's health check sends it calls again
    assert wait_for(lambda: _answered_by(public) == "a", 60, every=0.2), (
        "the proxy never sent host a a request"
    )
    failures = _storm(phone, 6, 4.0)
    assert failures == [], f"calls lost after host a came back: {failures[:3]}"
    assert "POST /voice/" in (a.folder / "serve-2.log").read_text(errors="replace"), "host a took no call"
    again = wait_for(
        lambda: (n := _paged(engine))["callouts"] == CALLERS + 6 and n["unpaged"] == 0 and n, 120, every=0.5
    )
    assert again, f"the calls after the return were not all paged: {_paged(engine)}"
    assert again["twice"] == 0, "a callout was paged twice after host a came back"
