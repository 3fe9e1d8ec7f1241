"""The caller storm (`make bench BENCH_ARGS="--callers 200"`): N fake callers starting within S
seconds, each walking the whole call (ticket, PIN, callback kept, message, sent, hung up) against
`astreinte up` with its defaults (gunicorn's processes and threads, its worker, the embedded Redis,
the local outbox), on a scratch SQLite file and on PostgreSQL (DATABASE_URL, EMPTIED) in the same run,
alternating. Prints, per database: each webhook's time as the caller waits for it (p50 / p99 / max),
PostgreSQL's round trips per webhook (libpq's trace of one call walked in-process; and the
transactions per webhook the server counted during the storm), and what was lost: every call that
did not reach "message sent", every message without a callout, every callout never paged.

    .venv/bin/python bench/callers.py [--callers 200] [--seconds 10] [--rounds 1] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from scratch import free_port  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

import models  # noqa: E402
from devtools.simulator import Phone  # noqa: E402
from models import Callout, Page, Voicemail, VoicemailKind  # noqa: E402
from voice.production import DEV_AUTH_TOKEN  # noqa: E402  (`up` without Twilio credentials signs with it)

BIN = Path(sys.executable).parent
SUPPORT = "+33272646172"
CALLER = "+33611223344"  # Isabelle, a contact of C1001 (examples/org.yaml)
PAGED_WITHIN = 120.0  # seconds after the last caller for every callout to be paged


class TimedPhone(Phone):
    """The fake phone of the tests over HTTP, noting how long each request kept the caller waiting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.times: list[tuple[str, float]] = []

    def send(
        self, url: str, params: dict[str, str], method: str = "POST", signature: str | None = None
    ) -> Any:
        t = time.perf_counter()
        answer = super().send(url, params, method, signature)
        ms = (time.perf_counter() - t) * 1000
        with self.lock:
            self.times.append((self.path_of(url).split("?")[0], ms))
        return answer


def one_caller(phone: TimedPhone) -> None:
    call = phone.call(from_=CALLER)
    call.expect("numéro de requête").press("104233#")
    call.expect("code PIN").press("4821#")
    call.expect("nous vous rappellerons").press("1")  # keeps the caller ID
    call.expect("après le bip").record(seconds=20)
    call.press("1").expect("au plus tard dans 30 minutes")  # then Twilio hangs up: the status callback


def org_file(folder: Path) -> Path:
    """examples/org.yaml, always after hours (the storm is at night whatever the wall clock says)."""
    doc = yaml.safe_load((ROOT / "examples" / "org.yaml").read_text(encoding="utf-8"))
    doc["business_hours"], doc["holidays"], doc["closures"] = {}, [], []
    path = folder / "org.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def empty_database(url: str) -> None:
    engine = models.make_engine(url)
    models.Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


class Host:
    """`astreinte up` on a scratch instance: its own folder, embedded Redis, local outbox."""

    def __init__(self, db_url: str | None, code: Path = ROOT) -> None:
        self.code = code
        self.dir = Path(tempfile.mkdtemp(prefix="astreinte-callers-"))
        self.db_url = db_url or f"sqlite:///{self.dir / 'astreinte.db'}"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in ("REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "WEB_CONCURRENCY", "WEB_THREADS")
        }
        self.env.update(
            DATABASE_URL=self.db_url,
            ASTREINTE_INSTANCE=str(self.dir),
            PUBLIC_BASE_URL=self.base,
            SECRET_KEY="bench-callers-secret-key",
            LOG_LEVEL="WARNING",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def astreinte(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "import wsgi; wsgi.cli()", *args]

    def start(self) -> None:
        if self.db_url.startswith("postgresql"):
            empty_database(self.db_url)
        subprocess.run(
            self.astreinte("db", "upgrade"), env=self.env, cwd=self.code, check=True, capture_output=True
        )
        subprocess.run(
            self.astreinte("load", str(org_file(self.dir))),
            env=self.env,
            cwd=self.code,
            check=True,
            capture_output=True,
        )
        log = (self.dir / "up.log").open("wb")
        self.proc = subprocess.Popen(
            self.astreinte("up", "--port", str(self.port)),
            env=self.env,
            cwd=self.code,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        import urllib.request  # noqa: PLC0415

        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        time.sleep(2.0)  # the worker's first connection
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"astreinte up did not answer: {(self.dir / 'up.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def transactions(engine: Engine) -> int | None:
    """Transactions the PostgreSQL server counted in this database (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(
            conn.scalar(
                text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
                )
            )
        )


def lost(engine: Engine, callers_done: int) -> dict[str, int]:
    """Messages without a callout, callouts never paged (a page sent: it has a carrier's id)."""
    with engine.connect() as conn:
        messages = conn.scalar(
            select(func.count()).select_from(Voicemail).where(Voicemail.kind == VoicemailKind.ASTREINTE)
        )
        orphans = conn.scalar(
            select(func.count())
            .select_from(Voicemail)
            .where(
                Voicemail.kind == VoicemailKind.ASTREINTE,
                ~select(Callout.id).where(Callout.voicemail_id == Voicemail.id).exists(),
            )
        )
        unpaged = conn.scalar(
            select(func.count())
            .select_from(Callout)
            .where(
                ~select(Page.id).where(Page.callout_id == Callout.id, Page.twilio_sid.is_not(None)).exists()
            )
        )
        double = conn.scalar(
            select(func.count()).select_from(
                select(Page.callout_id, Page.channel, Page.step)
                .where(Page.twilio_sid.is_not(None))
                .group_by(Page.callout_id, Page.channel, Page.step)
                .having(func.count(func.distinct(Page.twilio_sid)) > 1)
                .subquery()
            )
        )
    return {
        "messages": int(messages or 0),
        "missing messages": callers_done - int(messages or 0),
        "messages without a callout": int(orphans or 0),
        "callouts never paged": int(unpaged or 0),
        "pages sent twice": int(double or 0),
    }


def storm(db_url: str | None, callers: int, seconds: float, code: Path = ROOT) -> dict[str, Any]:
    host = Host(db_url, code)
    host.start()
    engine = create_engine(host.db_url)
    try:
        phone = TimedPhone(host.base, DEV_AUTH_TOKEN, host.base, support_number=SUPPORT)
        failures: list[str] = []
        xacts_before = transactions(engine)

        def caller(delay: float) -> None:
            time.sleep(delay)
            try:
                one_caller(phone)
            except Exception as exc:  # noqa: BLE001 - counted as a lost call
                failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")

        threads = [
            threading.Thread(target=caller, args=(i * seconds / callers,), daemon=True)
            for i in range(callers)
        ]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 300)
        walked = time.monotonic() - t0
        xacts = transactions(engine)
        webhooks = len(phone.times)
        done = callers - len(failures)
        deadline = time.monotonic() + PAGED_WITHIN
        while True:
            figures = lost(engine, done)
            if figures["callouts never paged"] == 0 and figures["messages without a callout"] == 0:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        paged_after = time.monotonic() - t0 - walked
        ms = sorted(t for _path, t in phone.times)
        return {
            "webhooks": webhooks,
            "p50": statistics.median(ms) if ms else float("nan"),
            "p99": ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))] if ms else float("nan"),
            "max": ms[-1] if ms else float("nan"),
            "by_path": _by_path(phone.times),
            "walked_s": walked,
            "paged_after_s": paged_after,
            "failed_calls": len(failures),
            "failures": failures[:3],
            "xacts_per_webhook": ((xacts - xacts_before) / webhooks)
            if xacts is not None and xacts_before is not None and webhooks
            else None,
            **figures,
        }
    finally:
        engine.dispose()
        host.stop()


def _by_path(times: list[tuple[str, float]]) -> dict[str, tuple[int, float]]:
    paths: dict[str, list[float]] = {}
    for path, ms in times:
        paths.setdefault(path, []).append(ms)
    return {
        p: (len(v), sorted(v)[min(len(v) - 1, round(0.99 * (len(v) - 1)))]) for p, v in sorted(paths.items())
    }


def round_trips(db_url: str) -> list[tuple[str, int]]:
    """Round trips of each webhook of one call, walked in-process on a scratch copy (emptied)."""
    from scratch import scratch_app  # noqa: PLC0415
    from sql_counts import round_trips_per_step  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="astreinte-trips-"))
    os.environ["DATABASE_URL"] = db_url
    logging.getLogger("tasks").setLevel(logging.ERROR)  # no queue here: the jobs are not the webhooks'
    app = scratch_app(tmp, "trips", "sql-counts", "http://127.0.0.1:5000", TASKS_INLINE=False)
    try:
        return round_trips_per_step(app)
    finally:
        app.extensions["engine"].dispose()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1, help="SQLite then PostgreSQL, this many times")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true")
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout (git archive of a commit): each storm runs on it too, alternating, as 'before'",
    )
    args = parser.parse_args()
    pg = os.environ.get("DATABASE_URL", "")
    if not pg.startswith("postgresql"):
        if not args.sqlite_only:
            raise SystemExit(
                "set DATABASE_URL to a scratch PostgreSQL database (it is emptied), or --sqlite-only"
            )
        pg = ""
    targets: list[tuple[str, str | None, Path]] = []
    codes = [(" before", args.against), ("", ROOT)] if args.against else [("", ROOT)]
    for _ in range(args.rounds):
        for label, code in codes:
            if not args.postgresql_only:
                targets.append(("SQLite" + label, None, code))
            if pg and not args.sqlite_only:
                targets.append(("PostgreSQL" + label, pg, code))
    load = os.getloadavg()[0]
    print(
        f"# {args.callers} callers within {args.seconds:.0f} s against `astreinte up` (defaults); load {load:.1f}"
    )
    results = []
    for name, url, code in targets:
        r = storm(url, args.callers, args.seconds, code)
        results.append((name, r))
        print(
            f"{name}: webhooks p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms "
            f"({r['webhooks']} webhooks); calls failed {r['failed_calls']}; "
            + "; ".join(
                f"{k} {r[k]}"
                for k in (
                    "missing messages",
                    "messages without a callout",
                    "callouts never paged",
                    "pages sent twice",
                )
            )
            + f"; all paged {r['paged_after_s']:.1f} s after the last caller"
            + (
                f"; {r['xacts_per_webhook']:.2f} transactions per webhook (server)"
                if r["xacts_per_webhook"]
                else ""
            ),
            flush=True,
        )
        for path, (count, p99) in r["by_path"].items():
            print(f"    {path}: {count} requests, p99 {p99:.0f} ms")
        for failure in r["failures"]:
            print(f"    failed: {failure}")
    trips = round_trips(pg) if pg and not args.sqlite_only else []
    if trips:
        print(
            "PostgreSQL round trips per webhook (one call in-process, libpq trace): "
            + ", ".join(f"{p} {n}" for p, n in trips)
        )
    print()
    print(
        "| database | webhook p50 / p99 / max | calls failed | messages lost | callouts never paged | pages twice |"
    )
    print("|---|---|---|---|---|---|")
    for name, r in results:
        print(
            f"| {name} | {r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f} ms | {r['failed_calls']} | "
            f"{r['missing messages'] + r['messages without a callout']} | {r['callouts never paged']} | {r['pages sent twice']} |"
        )
    sq = [r["p99"] for n, r in results if n == "SQLite"]
    pq = [r["p99"] for n, r in results if n == "PostgreSQL"]
    if sq and pq:
        print(f"\nPostgreSQL p99 / SQLite p99: {statistics.median(pq) / statistics.median(sq):.2f}")


if __name__ == "__main__":
    main()
