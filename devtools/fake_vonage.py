"""A Vonage stand-in: a real HTTPS server on 127.0.0.1 (its own certificate, trusted through
REQUESTS_CA_BUNDLE) speaking the shape of Vonage's SMS API (`POST /sms/json`), Voice API
(`POST /v1/calls`) and account balance, as its public API reference describes them. It records what the
application sends, can be taken down (every request answering a status), and plays the technician: it
answers a page call (fetching the NCCO, pressing a key) and replies by SMS, each request signed with the
signature secret as Vonage signs its webhooks.

One fake network (devtools/): beside fake_twilio.py and fake_smtp.py, used by the tests (their fixtures
in tests/vonage_standin.py) and by local runs. `vonage_config` points an application at it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import clock

API_KEY, API_SECRET = "a1b2c3d4", "vonage-api-secret-0123"
SIGNATURE_SECRET = "vonage-signature-secret-0123456789"
APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


@dataclass
class Sms:
    id: str
    to: str
    from_: str
    text: str


@dataclass
class VoiceCall:
    uuid: str
    to: str
    answer_url: str
    event_url: str
    body: dict[str, Any]


@dataclass
class _State:
    sms: list[Sms] = field(default_factory=list)
    calls: list[VoiceCall] = field(default_factory=list)
    down: int = 0  # an HTTP status every request answers, 0 when up
    jwt_seen: list[dict[str, Any]] = field(default_factory=list)


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "vonage.pem", folder / "vonage.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def application_key() -> str:
    """A private key for the Voice application (the SDK signs its JWTs with it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class VonageStandIn:
    def __init__(self, folder: Path) -> None:
        self.lock = threading.Lock()
        self.state = _State()
        self.cert, key = _certificate(folder)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.client: Any = None  # the application's test client, to play the technician

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.state = _State()

    def down(self, status: int = 503) -> None:
        with self.lock:
            self.state.down = status

    def up(self) -> None:
        with self.lock:
            self.state.down = 0

    def sms_to(self, number: str) -> list[Sms]:
        with self.lock:
            return [m for m in self.state.sms if m.to == number.removeprefix("+")]

    def calls_to(self, number: str) -> list[VoiceCall]:
        with self.lock:
            return [c for c in self.state.calls if c.to == number.removeprefix("+")]

    # --- the technician, through Vonage's webhooks -----------------------------------------------

    @staticmethod
    def signed_headers(
        body: bytes, secret: str = SIGNATURE_SECRET, at: float | None = None
    ) -> dict[str, str]:
        claims = {
            "iat": int(at if at is not None else clock.now().timestamp()),
            "jti": uuid.uuid4().hex,
            "iss": "Vonage",
            "payload_hash": hashlib.sha256(body).hexdigest(),
            "api_key": API_KEY,
            "application_id": APPLICATION_ID,
        }
        token = jwt.encode(claims, secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _post_json(self, url: str, data: dict[str, Any], **sign: Any) -> Any:
        body = json.dumps(data).encode()
        path = urllib.parse.urlsplit(url)
        return self.client.post(
            path.path + ("?" + path.query if path.query else ""),
            data=body,
            headers=self.signed_headers(body, **sign),
        )

    def answer(self, call: VoiceCall, press: str | None = "1") -> list[dict[str, Any]]:
        """Pick up the page call, hear its NCCO, press a key; what was said, NCCO by NCCO."""
        heard = self._post_json(call.answer_url, {"uuid": call.uuid, "to": call.to, "from": "x"})
        assert heard.status_code == 200, heard.get_data(as_text=True)
        nccos = [heard.get_json()]
        if press is not None:
            key_url = next(a["eventUrl"][0] for a in nccos[0] if a["action"] == "input")
            done = self._post_json(
                key_url, {"uuid": call.uuid, "dtmf": {"digits": press, "timed_out": False}}
            )
            assert done.status_code == 200, done.get_data(as_text=True)
            nccos.append(done.get_json())
        return nccos

    def event(self, call: VoiceCall, status: str) -> int:
        return int(self._post_json(call.event_url, {"uuid": call.uuid, "status": status}).status_code)

    @staticmethod
    def sms_params(
        from_: str, text: str, secret: str = SIGNATURE_SECRET, at: float | None = None
    ) -> dict[str, str]:
        params = {
            "msisdn": from_.removeprefix("+"),
            "to": "33272646172",
            "messageId": uuid.uuid4().hex[:16],
            "text": text,
            "type": "text",
            "keyword": text.split()[0].upper() if text.split() else "",
            "message-timestamp": "2026-11-24 22:14:00",
            "timestamp": str(int(at if at is not None else clock.now().timestamp())),
            "nonce": uuid.uuid4().hex,
        }
        mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        for key in sorted(params):
            mac.update(f"&{key}={params[key].replace('&', '_').replace('=', '_')}".encode())
        params["sig"] = mac.hexdigest().upper()
        return params

    def reply(self, from_: str, text: str, **sign: Any) -> int:
        """The technician's SMS to Vonage's number, delivered to the application's webhook."""
        return int(self.client.post("/vonage/sms", data=self.sms_params(from_, text, **sign)).status_code)


def _handler(standin: VonageStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _down(self) -> bool:
            if standin.state.down:
                self._answer(standin.state.down, {"type": "about:blank", "title": "Service Unavailable"})
                return True
            return False

        def do_GET(self) -> None:  # noqa: N802
            if self._down():
                return
            if self.path.startswith("/account/get-balance"):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                if API_KEY not in json.dumps(query) and not auth.startswith("Basic"):
                    return self._answer(401, {"title": "Unauthorized"})
                return self._answer(200, {"value": 10.5, "autoReload": False})
            self._answer(404, {"title": "Not found"})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self._down():
                return
            if self.path == "/sms/json":
                form = {
                    k: v[0] for k, v in urllib.parse.parse_qs(raw.decode(), keep_blank_values=True).items()
                }
                auth = self.headers.get("Authorization", "")
                if form.get("api_key", API_KEY) != API_KEY and not auth.startswith("Basic"):
                    return self._answer(
                        200,
                        {
                            "message-count": "1",
                            "messages": [{"status": "4", "error-text": "Bad Credentials"}],
                        },
                    )
                if not form.get("to") or not form.get("text") or "+" in form["to"]:
                    return self._answer(
                        200, {"message-count": "1", "messages": [{"status": "3", "error-text": "Invalid to"}]}
                    )
                sms = Sms(uuid.uuid4().hex[:16].upper(), form["to"], form.get("from", ""), form["text"])
                with standin.lock:
                    standin.state.sms.append(sms)
                return self._answer(
                    200,
                    {
                        "message-count": "1",
                        "messages": [
                            {
                                "to": sms.to,
                                "message-id": sms.id,
                                "status": "0",
                                "remaining-balance": "10",
                                "message-price": "0.05",
                                "network": "20801",
                            }
                        ],
                    },
                )
            if self.path == "/v1/calls":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                try:
                    claims = jwt.decode(token, options={"verify_signature": False})
                except jwt.PyJWTError:
                    return self._answer(401, {"title": "Invalid Token"})
                if claims.get("application_id") != APPLICATION_ID:
                    return self._answer(401, {"title": "Invalid Token"})
                body = json.loads(raw or b"{}")
                call = VoiceCall(
                    str(uuid.uuid4()),
                    body["to"][0]["number"],
                    body["answer_url"][0],
                    body["event_url"][0],
                    body,
                )
                with standin.lock:
                    standin.state.calls.append(call)
                return self._answer(
                    201,
                    {
                        "uuid": call.uuid,
                        "status": "started",
                        "direction": "outbound",
                        "conversation_uuid": "CON-" + call.uuid,
                    },
                )
            self._answer(404, {"title": "Not found"})

    return Handler


def vonage_config(base: dict[str, Any], server: VonageStandIn) -> dict[str, Any]:
    return {
        **base,
        "VONAGE_API_KEY": API_KEY,
        "VONAGE_API_SECRET": API_SECRET,
        "VONAGE_APPLICATION_ID": APPLICATION_ID,
        "VONAGE_PRIVATE_KEY": application_key(),
        "VONAGE_SIGNATURE_SECRET": SIGNATURE_SECRET,
        "VONAGE_API_HOST": server.host,
        "VONAGE_REST_HOST": server.host,
        "VONAGE_TIMEOUT": 2,
    }
