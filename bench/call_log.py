"""How fast the call log answers with a million calls: `make bench` (or `.venv/bin/python bench/call_log.py`).

Fills a scratch database (SQLite `instance/bench.db` by default; DATABASE_URL to use another one,
never a production database) with BENCH_CALLS calls (default 1 000 000) by bulk insert, once: a
second run reuses them. Then times, through the application (login, query, template), the call
log's first page, filtered pages and a deep page, each the median of several runs.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

import models  # noqa: E402
from dashboard.auth import hash_password  # noqa: E402
from dashboard.calllog import make_cursor  # noqa: E402
from models import Call, CallOutcome, Client, Ticket, User, session  # noqa: E402
from org.load import is_empty, load, read_file  # noqa: E402
from wsgi import create_app  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", 1_000_000))
CLIENTS, TICKETS, CALLERS = 300, 30_000, 20_000
RUNS = 7
BATCH = 20_000
OUTCOMES = [
    (CallOutcome.FORWARDED, 55),
    (CallOutcome.DESK_MESSAGE, 8),
    (CallOutcome.VOICEMAIL, 15),
    (CallOutcome.REFUSED, 15),
    (CallOutcome.ABANDONED, 7),
]
REASONS = ["unknown_ticket", "bad_pin", "no_astreinte_option", "service_not_covered", "priority_waits"]


def fill(calls: int) -> None:
    rng = random.Random(4)
    if is_empty():
        load(read_file(ROOT / "examples" / "org.yaml"))
    have_clients = session.scalar(select(func.count()).select_from(Client)) or 0
    if have_clients < CLIENTS:
        session.execute(
            insert(Client),
            [
                {"account": f"B{i:05d}", "name": f"Client {i}", "pin_hash": "-", "astreinte": i % 3 != 0}
                for i in range(have_clients, CLIENTS)
            ],
        )
        session.commit()
    client_ids = list(session.scalars(select(Client.id)))
    have_tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
    if have_tickets < TICKETS:
        opened = datetime(2025, 1, 1, tzinfo=UTC)
        session.execute(
            insert(Ticket),
            [
                {
                    "number": str(200000 + i),
                    "client_id": rng.choice(client_ids),
                    "priority": "high",
                    "subject": f"Incident {i}",
                    "opened_at": opened,
                    "updated_at": opened,
                    "standby_seconds": 0,
                }
                for i in range(have_tickets, TICKETS)
            ],
        )
        session.commit()
    tickets = list(session.execute(select(Ticket.id, Ticket.client_id, Ticket.number)))
    have = session.scalar(select(func.count()).select_from(Call)) or 0
    if have >= calls:
        return
    print(f"inserting {calls - have:,} calls…", flush=True)
    callers = [f"+336{rng.randrange(10**7, 10**8)}" for _ in range(CALLERS)]
    end = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    step = timedelta(days=730) / calls
    weights = [w for _, w in OUTCOMES]
    started = time.perf_counter()
    for first in range(have, calls, BATCH):
        rows = []
        for i in range(first, min(first + BATCH, calls)):
            at = end - step * (calls - i) + timedelta(seconds=rng.randrange(0, 60))
            outcome = rng.choices(OUTCOMES, weights)[0][0]
            ticket = rng.choice(tickets) if outcome is not CallOutcome.FORWARDED else None
            reason = rng.choice(REASONS) if outcome is CallOutcome.REFUSED else None
            rows.append(
                {
                    "sid": f"CA{i:032d}",
                    "from_number": rng.choice(callers),
                    "to_number": "+33272646172",
                    "started_at": at,
                    "ended_at": at + timedelta(seconds=90),
                    "duration": rng.randrange(20, 400),
                    "status": "completed",
                    "after_hours": outcome is not CallOutcome.FORWARDED,
                    "outcome": outcome,
                    "reason": reason,
                    "step": "done",
                    "language": "fr",
                    "tries": 0,
                    "entered_ticket": ticket.number if ticket else None,
                    "ticket_id": ticket.id if ticket and reason != "unknown_ticket" else None,
                    "client_id": ticket.client_id if ticket and reason != "unknown_ticket" else None,
                }
            )
        session.execute(insert(Call), rows)
        session.commit()
        done = min(first + BATCH, calls)
        if done % 200_000 == 0 or done == calls:
            print(f"  {done:,} calls ({time.perf_counter() - started:.0f} s)", flush=True)


def timed(client: object, url: str) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        answer = client.get(url)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - t0)
        assert answer.status_code == 200, (url, answer.status_code)
    return statistics.median(times) * 1000


def main() -> None:
    instance = ROOT / "instance"
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'bench.db'}"
    app = create_app({"DATABASE_URL": url, "TASKS_INLINE": True})
    engine = app.extensions["engine"]
    models.Base.metadata.create_all(engine)  # only what is missing; existing rows are kept
    for table in models.Base.metadata.sorted_tables:  # indexes added since the last run
        for index in table.indexes:
            index.create(engine, checkfirst=True)
    with app.app_context():
        fill(CALLS)
        session.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would leave them
        session.commit()
        if session.scalar(select(User).where(User.name == "bench")) is None:
            session.add(User(name="bench", password_hash=hash_password("bench password"), role="agent"))
            session.commit()
        total = session.scalar(select(func.count()).select_from(Call))
        busiest = session.execute(
            select(Call.client_id, func.count())
            .where(Call.client_id.is_not(None))
            .group_by(Call.client_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        account = session.scalar(select(Client.account).where(Client.id == busiest[0]))
        caller = session.scalar(select(Call.from_number).order_by(Call.id.desc()).limit(1))
        ticket = session.scalar(select(Ticket.number).join(Call, Call.ticket_id == Ticket.id).limit(1))
        deep = session.execute(
            select(Call.started_at, Call.id)
            .order_by(Call.started_at.desc(), Call.id.desc())
            .offset(int((total or 0) * 0.9))
            .limit(1)
        ).one()
        cursor = make_cursor(deep[0], deep[1])
    client = app.test_client()
    with client.session_transaction():
        pass
    login = client.get("/login").get_data(as_text=True)
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"name": "bench", "password": "bench password", "csrf_token": token})
    print(f"\n{engine.dialect.name}, {total:,} calls; median of {RUNS} requests through the app:")
    cases = [
        ("first page", "/calls"),
        ("filtered: refused, one month", "/calls?outcome=refused&from=2026-03-01&to=2026-03-31"),
        (f"filtered: client {account} ({busiest[1]:,} calls)", f"/calls?client={account}"),
        ("filtered: one caller", f"/calls?caller={caller}"),
        (f"filtered: ticket {ticket}", f"/calls?ticket={ticket}"),
        ("filtered: nothing matches (reason=locked)", "/calls?reason=locked"),
        ("filtered: a number nobody has (ticket=999999)", "/calls?ticket=999999"),
        ("deep page (90% down, keyset)", f"/calls?after={cursor}"),
        ("API first page (50)", None),
    ]
    from dashboard.api import create_token

    with app.app_context():
        api_token = create_token("bench")
    for name, path in cases:
        if path is None:
            t0 = []
            for _ in range(RUNS):
                s = time.perf_counter()
                client.get("/api/calls", headers={"Authorization": f"Bearer {api_token}"})
                t0.append(time.perf_counter() - s)
            print(f"  {name:<45} {statistics.median(t0) * 1000:8.1f} ms")
            continue
        print(f"  {name:<45} {timed(client, path):8.1f} ms")


if __name__ == "__main__":
    main()
