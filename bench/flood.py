"""A junk-signed flood against real calls: can a stranger jam the line? (docs/security.md)

Starts the stack of bench/stack.py (gunicorn as `serve` runs it, 2 workers x 4 threads, a Twilio
stand-in, a scratch SQLite or DATABASE_URL, Redis: EMPTIED, scratch ones only), then N threads loop
`POST /voice/incoming` with 90,000 empty fields (~700 kB) and a junk signature (half `abc`, half
shaped like Twilio's), while signed real calls arrive one after the other. Prints the CPU one junk
request costs in-process, and p50 / max of the real calls' answer times. Bounded: the flood stops
with the last real call, or after --seconds at most. Everything listens on 127.0.0.1.

    .venv/bin/python bench/flood.py [--flooders 16] [--calls 25] [--seconds 120]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack  # noqa: E402

JUNK = b"&".join(b"f%d=" % i for i in range(90_000))
SIGNATURES = ("abc", "A" * 27 + "=")


def junk_request(port: int, signature: str) -> bytes:
    return (
        f"POST /voice/incoming HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: {signature}\r\n"
        f"Content-Length: {len(JUNK)}\r\n\r\n"
    ).encode() + JUNK


def flood(port: int, signature: str, stop: threading.Event, counts: list[int]) -> None:
    raw = junk_request(port, signature)
    while not stop.is_set():
        counts.append(1)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(raw)
                while sock.recv(65536):
                    pass
        except OSError:  # refused before its body was read: the server closed on it
            pass


def cpu_per_junk_request(stack: Stack, n: int = 5) -> float:
    """In-process, one core: CPU milliseconds to refuse one junk request (median of n)."""
    client = stack.app.test_client()
    costs = []
    for i in range(n):
        start = time.process_time()
        resp = client.post(
            "/voice/incoming",
            data=JUNK,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": SIGNATURES[i % 2]},
        )
        costs.append((time.process_time() - start) * 1000)
        assert resp.status_code in (403, 413), resp.status_code
    return statistics.median(costs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flooders", type=int, default=16)
    parser.add_argument("--calls", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    args.web_workers, args.threads = 2, 4  # `astreinte serve`'s defaults, and its worker class
    args.worker_class = "serving.web.HeadersFirstWorker"
    stack = Stack(args)
    try:
        stack.start()
        print(f"CPU to refuse one junk request (in-process): {cpu_per_junk_request(stack):.1f} ms")
        stop, counts = threading.Event(), []
        threads = [
            threading.Thread(
                target=flood, args=(stack.app_port, SIGNATURES[i % 2], stop, counts), daemon=True
            )
            for i in range(args.flooders)
        ]
        for t in threads:
            t.start()
        time.sleep(2.0)  # the flood is on
        deadline = time.monotonic() + args.seconds
        times: list[float] = []
        for _ in range(args.calls):
            if time.monotonic() > deadline:
                break
            start = time.monotonic()
            body = stack.post("/voice/incoming", stack.call_params("CA" + uuid.uuid4().hex))
            times.append(time.monotonic() - start)
            assert "<Gather" in body
        stop.set()
        for t in threads:
            t.join(timeout=35)
        late = sum(1 for t in times if t > 15)
        print(
            f"{args.flooders} junk flooders ({len(counts)} junk requests sent); {len(times)} real calls: "
            f"p50 {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, "
            f"{late} past Twilio's 15 s (goal: max under 2 s)"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
