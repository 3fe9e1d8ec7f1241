"""The cost of each IVR webhook in-process, without HTTP (`.venv/bin/python bench/steps.py`): N signed
requests of each kind through `app.test_client()`, against a scratch SQLite file (or DATABASE_URL,
EMPTIED), next to the bare endpoint of bench/bare.py driven the same way. Prints ms per request.

    .venv/bin/python bench/steps.py [-n 300] [--profile incoming|step|pin] [--sort tottime] [--top 40]

Kinds: `incoming` (a new call: /voice/incoming), `step` (the ticket step: the first answer of one of
those calls, the ticket number keyed at the greeting), `pin` (the right PIN, one call each), `bare`.
A benchmark, never a test: it asserts only that each answer is the one expected."""

from __future__ import annotations

import argparse
import cProfile
import html
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scratch import scratch_app  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

PUBLIC = "http://127.0.0.1:5000"
TOKEN = "steps-token"
TICKET, PIN = "104233", "4821"
CALLER = "+33611223344"  # a contact of C1001 (examples/org.yaml)


def make_app(tmp: Path) -> Any:
    os.environ.setdefault("ASTREINTE_INSTANCE", str(tmp))
    os.environ.setdefault("LOG_LEVEL", "INFO")  # the request lines, as served: formatted, written to nowhere
    from serving import logs

    logs.configure(stream=open(os.devnull, "w"))  # noqa: SIM115 - for the life of the process
    return scratch_app(tmp, "steps", TOKEN, PUBLIC)


class Caller:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.validator = RequestValidator(TOKEN)

    def prepare(self, path: str, sid: str, **more: str) -> tuple[str, dict[str, str], dict[str, str]]:
        params = {
            "CallSid": sid,
            "AccountSid": "AC" + "b" * 32,
            "From": CALLER,
            "To": "+33272646172",
            "Direction": "inbound",
            "CallStatus": "in-progress",
            **more,
        }
        return path, params, {"X-Twilio-Signature": self.validator.compute_signature(PUBLIC + path, params)}

    def send(self, prepared: tuple[str, dict[str, str], dict[str, str]]) -> str:
        path, params, headers = prepared
        response = self.client.post(path, data=params, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return str(response.get_data(as_text=True))


def next_path(answer: str) -> str:
    m = re.search(r'action="([^"]+)"', answer)
    assert m, answer
    return html.unescape(m.group(1)).removeprefix(PUBLIC)


def timed(
    requests: list[Any], send: Callable[[Any], str], check: str, profile: cProfile.Profile | None
) -> float:
    """ms per request over `requests`, sent one after the other."""
    if profile:
        profile.enable()
    t = time.perf_counter()
    for r in requests:
        answer = send(r)
        assert check in answer, answer[:300]
    elapsed = time.perf_counter() - t
    if profile:
        profile.disable()
    return elapsed * 1000 / len(requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is printed")
    parser.add_argument("--profile", choices=["incoming", "step", "pin", "bare"], help="cProfile this kind")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    app = make_app(Path(tempfile.mkdtemp(prefix="astreinte-steps-")))
    import bare

    caller, bare_caller = Caller(app.test_client()), Caller(bare.app.test_client())
    profile = cProfile.Profile() if args.profile else None
    figures: dict[str, list[float]] = {"bare": [], "incoming": [], "step": [], "pin": []}
    # a warm-up call, through every step measured
    for _ in range(3):
        sid = "CA" + uuid.uuid4().hex
        path = next_path(caller.send(caller.prepare("/voice/incoming", sid, CallStatus="ringing")))
        path = next_path(caller.send(caller.prepare(path, sid, Digits=TICKET)))
        caller.send(caller.prepare(path, sid, Digits=PIN))
    for _ in range(args.rounds):
        n = args.n
        reqs = [bare_caller.prepare("/voice/incoming", "CAbare") for _ in range(n)]
        figures["bare"].append(
            timed(reqs, bare_caller.send, "Bonjour", profile if args.profile == "bare" else None)
        )
        sids = ["CA" + uuid.uuid4().hex for _ in range(n)]
        reqs = [caller.prepare("/voice/incoming", sid, CallStatus="ringing") for sid in sids]
        figures["incoming"].append(
            timed(reqs, caller.send, "greeting?n=1", profile if args.profile == "incoming" else None)
        )
        reqs = [caller.prepare("/voice/caller/step/greeting?n=1", sid, Digits=TICKET) for sid in sids]
        figures["step"].append(
            timed(reqs, caller.send, "pin?n=2", profile if args.profile == "step" else None)
        )
        pin_path = "/voice/caller/step/pin?n=2"
        reqs = [caller.prepare(pin_path, sid, Digits=PIN) for sid in sids]
        figures["pin"].append(
            timed(reqs, caller.send, "callback?n=3", profile if args.profile == "pin" else None)
        )

    url = app.config["DATABASE_URL"]
    print(f"{url.split(':')[0]}, n={args.n} x {args.rounds} rounds, ms per request in-process")
    print("  (best round: the least disturbed on a shared machine; median in brackets)")
    base = min(figures["bare"])
    for kind, values in figures.items():
        best, median = min(values), statistics.median(values)
        print(f"  {kind:9} {best:7.3f} ms ({median:.3f})  {base / best:6.1%} of bare")
    if profile:
        stats = pstats.Stats(profile)
        print_areas(stats)
        stats.sort_stats(args.sort).print_stats(args.top)


def print_areas(stats: pstats.Stats) -> None:
    """Own time by package (sqlalchemy, werkzeug, flask, twilio, the project's modules...)."""
    areas: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (file, _line, _name), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        if "site-packages/" in file:
            area = file.split("site-packages/")[1].split("/")[0].removesuffix(".py")
        elif file.startswith(str(ROOT)):
            area = "astreinte: " + str(Path(file).relative_to(ROOT).parent)
        elif file.startswith("~") or file.startswith("<"):
            area = "builtins"
        else:
            area = "stdlib: " + Path(file).stem
        areas[area] = areas.get(area, 0.0) + tottime
    total = sum(areas.values())
    print(f"own time by area (profiled: {total:.2f} s)")
    for area, spent in sorted(areas.items(), key=lambda kv: -kv[1])[:20]:
        print(f"  {spent / total:6.1%}  {area}")


if __name__ == "__main__":
    main()
