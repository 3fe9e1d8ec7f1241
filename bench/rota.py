"""How fast the rota answers with many desk changes: `.venv/bin/python bench/rota.py`.

A throw-away SQLite instance gets the example organisation and a night cover every other day for three
months (each one checked as the dashboard checks it); then times, through the application, the rota
page and the calendar feeds (a person's, the team's), each the median of 20 runs.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import clock  # noqa: E402
import models  # noqa: E402
from dashboard.auth import hash_password  # noqa: E402
from oncall import feeds  # noqa: E402
from oncall.overrides import cover  # noqa: E402
from org.load import current_org, load, read_file  # noqa: E402
from tests.conftest import paris  # noqa: E402
from wsgi import create_app  # noqa: E402

RUNS = 20


def median_ms(fetch: object) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fetch()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = create_app(
            {
                "INSTANCE": folder,
                "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                "SECRET_KEY": "bench",
                "TASKS_INLINE": True,
                "TWILIO_OUTBOX": True,
                "RECORDINGS_DIR": folder / "recordings",
            }
        )
        models.Base.metadata.create_all(app.extensions["engine"])
        with app.app_context():
            clock.set(paris("2026-11-24 23:10"))
            load(read_file(ROOT / "examples" / "org.yaml"))
            org = current_org()
            started, count = time.perf_counter(), 0
            for day in range(2, 90, 2):
                start = paris("2026-11-24 20:00") + timedelta(days=day)
                cover(org, "chloe", "primary", start, start + timedelta(hours=12), "bench", "bench")
                count += 1
            print(
                f"{count} covers saved, each checked: {(time.perf_counter() - started) / count * 1000:.1f} ms each"
            )
            models.session.add(models.User(name="bench", password_hash=hash_password("bench"), role="admin"))
            models.session.commit()
            mine, team = feeds.renew("chloe", "bench"), feeds.renew(None, "bench")
        client = app.test_client()
        form = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        client.post("/login", data={"name": "bench", "password": "bench", "csrf_token": token.group(1)})
        for label, path in (
            ("GET /rota", "/rota"),
            ("a person's feed", f"/calendar/{mine}.ics"),
            ("the team's feed", f"/calendar/{team}.ics"),
        ):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            print(
                f"{label}: {median_ms(lambda p=path: client.get(p)):.1f} ms median, {len(answer.data)} bytes"
            )
        clock.release()


if __name__ == "__main__":
    main()
