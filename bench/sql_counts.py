"""The statements each webhook step runs (`.venv/bin/python bench/sql_counts.py`): calls walked
through the IVR in-process, against a scratch SQLite database (or DATABASE_URL, emptied), printing
each request's SQL and, on PostgreSQL, its round trips (libpq's trace: bench/roundtrips.py). The
last of `--calls` calls is printed: the earlier ones warm the pool and psycopg's prepared statements.
The goal of issue 11: at most one read and one write per step."""

from __future__ import annotations

import argparse
import html
import logging
import re
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from roundtrips import RoundTrips  # noqa: E402
from scratch import scratch_app  # noqa: E402
from sqlalchemy import event  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

PUBLIC = "http://127.0.0.1:5000"
TOKEN = "sql-counts"


def walk_one_call(app: Any, post: Callable[[str, dict[str, str]], str]) -> None:
    """One caller through the whole call: ticket, PIN, callback kept, message, sent, hung up."""
    sid = "CA" + uuid.uuid4().hex
    base = {"CallSid": sid, "AccountSid": "AC" + "b" * 32, "From": "+33611223344", "To": "+33272646172"}

    def step(path: str, **more: str) -> str:
        answer = post(path, {**base, **more})
        m = re.search(r'action="([^"]+)"', answer)
        return html.unescape(m.group(1)).removeprefix(PUBLIC) if m else ""

    path = step("/voice/incoming", CallStatus="ringing")
    path = step(path, Digits="104233")
    path = step(path, Digits="4821")
    path = step(path, Digits="1")
    rec = "RE" + uuid.uuid4().hex
    path = step(path, RecordingSid=rec, RecordingUrl="https://x", RecordingDuration="20", Digits="#")
    step("/voice/caller/recording", RecordingSid=rec, RecordingStatus="completed", RecordingDuration="20")
    step(path, Digits="1")
    step("/voice/status", CallStatus="completed", CallDuration="60")


def signed_poster(app: Any, token: str = TOKEN) -> Callable[[str, dict[str, str]], str]:
    validator = RequestValidator(token)
    client = app.test_client()

    def post(path: str, params: dict[str, str]) -> str:
        sig = validator.compute_signature(PUBLIC + path, params)
        return client.post(path, data=params, headers={"X-Twilio-Signature": sig}).get_data(as_text=True)

    return post


def round_trips_per_step(app: Any, calls: int = 8) -> list[tuple[str, int]]:
    """(step, round trips) of the last of `calls` calls walked in-process; empty on SQLite."""
    counter = RoundTrips(app.extensions["engine"])
    if not counter.enabled:
        return []
    post = signed_poster(app)
    for _ in range(calls - 1):
        walk_one_call(app, post)
    counts: list[tuple[str, int]] = []

    def counted(path: str, params: dict[str, str]) -> str:
        with counter.counting():
            answer = post(path, params)
        counts.append((path.split("?")[0], counter.last))
        return answer

    walk_one_call(app, counted)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument(
        "--inline", action="store_true", help="run the jobs in the request (without: queued, as served)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="astreinte-sql-"))
    logging.getLogger("tasks").setLevel(logging.ERROR)  # no queue here: the jobs are not the webhooks'
    app = scratch_app(tmp, "sql", TOKEN, PUBLIC, TASKS_INLINE=args.inline)
    engine = app.extensions["engine"]
    counter = RoundTrips(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2].split("\n")[0][:100]))
    event.listen(engine, "commit", lambda *a: statements.append("COMMIT"))
    post = signed_poster(app)
    for _ in range(args.calls - 1):
        walk_one_call(app, post)

    def printed(path: str, params: dict[str, str]) -> str:
        statements.clear()
        with counter.counting():
            answer = post(path, params)
        more = {k: v for k, v in params.items() if k not in ("CallSid", "AccountSid", "From", "To")}
        trips = (
            f", {counter.last} round trips ({counter.prepared} of {counter.statements} prepared)"
            if counter.enabled
            else ""
        )
        print(f"\n{path} {more}: {len(statements)} statements{trips}")
        for s in statements:
            print("   ", s)
        return answer

    walk_one_call(app, printed)


if __name__ == "__main__":
    main()
