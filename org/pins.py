"""Client PINs: stored as HMAC-SHA256 under a server-side key, compared in constant time. The
organisation file brings them; the IVR checks what a caller keys.

A PIN has 4 to 8 digits: 10⁴ guesses break any slow hash offline, so what protects a PIN is the
lockout (tickets/pins.py) and the key, which never leaves the server (derived from SECRET_KEY: the
database alone gives nothing to guess against). Hashes of earlier versions (werkzeug's salted scrypt,
or a `pin_hash:` of the organisation file) are still accepted, and replaced by the keyed hash on the
next right entry.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from werkzeug.security import check_password_hash

from models import Client

PREFIX = "hmac-sha256$"
_KEY_LABEL = b"astreinte client PIN v1"


def _key() -> bytes:
    app = current_app
    key: bytes | None = app.extensions.get("pin_key")
    if key is None:
        key = hmac.new(str(app.config["SECRET_KEY"]).encode(), _KEY_LABEL, hashlib.sha256).digest()
        app.extensions["pin_key"] = key
    return key


def hash_pin(pin: str) -> str:
    """The keyed hash of a PIN (microseconds: the key, not the cost, keeps it safe)."""
    return PREFIX + hmac.new(_key(), pin.encode(), hashlib.sha256).hexdigest()


def is_current(pin_hash: str) -> bool:
    return pin_hash.startswith(PREFIX)


def pin_matches(pin: str, pin_hash: str) -> bool:
    """Constant-time check, for the keyed hash and for a scrypt hash of an earlier version."""
    if not pin_hash:
        return False
    if is_current(pin_hash):
        return hmac.compare_digest(hash_pin(pin), pin_hash)
    return check_password_hash(pin_hash, pin)


def check_pin(client: Client, pin: str) -> bool:
    """Whether `pin` is the client's PIN; a right PIN under an older hash is re-hashed with the key
    (written with the caller's request)."""
    if not pin_matches(pin, client.pin_hash):
        return False
    if not is_current(client.pin_hash):
        client.pin_hash = hash_pin(pin)
    return True
