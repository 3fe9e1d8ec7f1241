"""The statements each webhook step runs (`.venv/bin/python bench/sql_counts.py`): one call walked
through the IVR in-process, against a scratch SQLite database (or DATABASE_URL, emptied), printing
each request's SQL. The goal of issue 11: at most one read and one write per step."""

from __future__ import annotations

import html
import re
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import scratch_app  # noqa: E402
from sqlalchemy import event  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

PUBLIC = "http://127.0.0.1:5000"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="astreinte-sql-"))
    app = scratch_app(tmp, "sql", "sql-counts", PUBLIC)
    engine = app.extensions["engine"]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2].split("\n")[0][:100]))
    event.listen(engine, "commit", lambda *a: statements.append("COMMIT"))
    validator = RequestValidator("sql-counts")
    client = app.test_client()
    sid = "CA" + uuid.uuid4().hex
    base = {"CallSid": sid, "AccountSid": "AC" + "b" * 32, "From": "+33611223344", "To": "+33272646172"}

    def post(path: str, **more: str) -> str:
        params = {**base, **more}
        statements.clear()
        sig = validator.compute_signature(PUBLIC + path, params)
        answer = client.post(path, data=params, headers={"X-Twilio-Signature": sig}).get_data(as_text=True)
        print(f"\n{path} {more}: {len(statements)} statements")
        for s in statements:
            print("   ", s)
        m = re.search(r'action="([^"]+)"', answer)
        return html.unescape(m.group(1)).removeprefix(PUBLIC) if m else ""

    path = post("/voice/incoming", CallStatus="ringing")
    path = post(path, Digits="104233")
    path = post(path, Digits="1")
    path = post(path, Digits="4821")
    path = post(path, Digits="1")
    path = post(path, RecordingSid="RE" + uuid.uuid4().hex, RecordingUrl="https://x", RecordingDuration="20")
    post(path, Digits="1")


if __name__ == "__main__":
    main()
