"""The Twilio REST stand-in of `make bench`: `POST .../Messages.json` and `.../Calls.json` on 127.0.0.1,
keep-alive and TCP_NODELAY (no Nagle delay on small answers), recording when each request arrived."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Arrival:
    kind: str  # sms | call
    to: str
    body: str
    wall: float  # time.time() when it arrived


class StandIn:
    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self.lock = threading.Lock()
        self.arrivals: list[Arrival] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def since(self, wall: float) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.wall >= wall]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # the twilio client keeps its connection
        disable_nagle_algorithm = True  # TCP_NODELAY

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            wall = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            one = {k: v[0] for k, v in form.items()}
            kind = "sms" if self.path.endswith("/Messages.json") else "call"
            with standin.lock:
                standin.arrivals.append(Arrival(kind, one.get("To", ""), one.get("Body", ""), wall))
            sid = ("SM" if kind == "sms" else "CA") + uuid.uuid4().hex
            payload = {
                "sid": sid,
                "status": "queued",
                "to": one.get("To"),
                "from": one.get("From"),
                "account_sid": standin.account_sid,
                "direction": "outbound-api",
            }
            body = json.dumps(payload).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
