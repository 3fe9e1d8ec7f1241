"""The account's credentials go to Twilio's host only: a recording whose stored URL points elsewhere
(it came in a signed webhook, but a URL is only data) is never fetched."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import factories
from voice.recordings import open_media

SID, TOKEN = "AC" + "7" * 32, "recordings-token-0123456789abcdef"


@pytest.fixture
def listener():
    """A local HTTP server that notes every request and its Authorization header."""
    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("Authorization", "")))
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.end_headers()
            self.wfile.write(b"ID3 a message")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def _voicemail_at(url: str):  # type: ignore[no-untyped-def]
    row = factories.voicemail(factories.call("2026-11-24 23:05"), media=False)
    row.recording_url = url
    return row


def test_a_recording_url_on_another_host_is_never_fetched(app, org, listener):
    """Before: GET <stored URL>.mp3 with the account SID and token, wherever it pointed."""
    base, seen = listener
    app.config.update(TWILIO_OUTBOX=False, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN)
    app.config["TWILIO_API_BASE_URL"] = "https://api.twilio.com"
    row = _voicemail_at(f"{base}/2010-04-01/Accounts/{SID}/Recordings/RE1")
    assert open_media(row) is None
    assert seen == []


def test_a_recording_on_the_configured_twilio_host_is_streamed(app, org, listener):
    base, seen = listener
    app.config.update(TWILIO_OUTBOX=False, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN)
    app.config["TWILIO_API_BASE_URL"] = base  # the stand-in, as tests and the bench point it
    row = _voicemail_at(f"{base}/2010-04-01/Accounts/{SID}/Recordings/RE1")
    media = open_media(row)
    assert media is not None and b"".join(media[0]) == b"ID3 a message"
    assert seen[0][0].endswith("/Recordings/RE1.mp3") and seen[0][1].startswith("Basic ")
    for elsewhere in (
        f"{base.replace('127.0.0.1', 'localhost')}/2010-04-01/Accounts/{SID}/Recordings/RE1",
        f"http://user@{base.removeprefix('http://')}/2010-04-01/Accounts/{SID}/Recordings/RE1",
        f"{base}/elsewhere/RE1",
    ):
        assert open_media(_voicemail_at(elsewhere)) is None
    assert len(seen) == 1
