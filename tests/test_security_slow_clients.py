"""Slow clients cannot hold the web server: a request reaches a thread only once it is in, so sockets
that trickle their headers (slowloris) or their body leave the threads to Twilio's webhooks."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

from .processes import astreinte, free_port, healthz, stop, wait_serving


def test_slow_sockets_do_not_keep_webhooks_waiting(tmp_path, app, database_url, redis_url):
    """Before: with 2 threads, 8 sockets sending half their headers made /healthz wait for ever."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ASTREINTE_INSTANCE": str(tmp_path / "instance"),
    }
    env.pop("PUBLIC_BASE_URL", None)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        astreinte("serve", "--port", str(port), "--workers", "1", "--threads", "2"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    slow: list[socket.socket] = []
    try:
        wait_serving(lambda: healthz(port)[0] == 200)
        for i in range(8):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            half = b"POST /voice/incoming HTTP/1.1\r\nHost: x\r\n" if i % 2 else b""
            if not half:  # complete headers, a body that never comes
                half = b"POST /voice/incoming HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nCall"
            s.sendall(half)
            slow.append(s)
        time.sleep(0.5)
        start = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert resp.status == 200
        assert time.monotonic() - start < 2
        slow[0].settimeout(15)
        assert slow[0].recv(100) == b""  # dropped at its deadline (10 s), never answered
    finally:
        for s in slow:
            s.close()
        stop(proc)
