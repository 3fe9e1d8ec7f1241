"""Voicemail media: fetched from Twilio with the account's credentials, or local files in outbox mode.

A browser or a technician's phone never gets Twilio's URL: the application streams the media itself.
In outbox mode (and in the simulator) the media of recording `RE…` is `RECORDINGS_DIR/RE….wav`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import requests
from flask import current_app

from models import Voicemail

log = logging.getLogger(__name__)


def local_path(recording_sid: str) -> Path:
    return Path(current_app.config["RECORDINGS_DIR"]) / f"{recording_sid}.wav"


def open_media(voicemail: Voicemail) -> tuple[Iterator[bytes], str] | None:
    """The recording's bytes (streamed) and their MIME type, or None when there is none any more."""
    if voicemail.purged_at is not None or not voicemail.recording_sid:
        return None
    path = local_path(voicemail.recording_sid)
    if path.exists():
        return _chunks(path), "audio/wav"
    if current_app.config["TWILIO_OUTBOX"] or not voicemail.recording_url:
        return None
    cfg = current_app.config
    if not is_twilio_media(voicemail.recording_url):
        # The URL came in a webhook: a signed one, but never worth the account's credentials
        # sent to a host that is not Twilio's.
        log.warning("recording %s: its URL is not on Twilio's host, not fetched", voicemail.recording_sid)
        return None
    try:
        resp = requests.get(
            voicemail.recording_url + ".mp3",
            auth=(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]),
            stream=True,
            timeout=10,
        )
    except requests.RequestException as exc:
        log.warning("recording %s unreachable: %s", voicemail.recording_sid, type(exc).__name__)
        return None
    if resp.status_code != 200:
        log.warning("recording %s: Twilio answered %s", voicemail.recording_sid, resp.status_code)
        return None
    return resp.iter_content(64 * 1024), "audio/mpeg"


def is_twilio_media(url: str) -> bool:
    """Whether `url` is a recording on Twilio's REST host (api.twilio.com, or TWILIO_API_BASE_URL's
    host), with that host's scheme and port: the only place the account's credentials go."""
    base = urlsplit(current_app.config["TWILIO_API_BASE_URL"])
    allowed = {(base.scheme, base.hostname, base.port), ("https", "api.twilio.com", None)}
    try:
        parts = urlsplit(url)
        where = (parts.scheme, parts.hostname, parts.port)
    except ValueError:
        return False
    return where in allowed and parts.path.startswith("/2010-04-01/Accounts/") and not parts.username


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(64 * 1024):
            yield chunk
