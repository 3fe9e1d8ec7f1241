"""Client PINs: stored as HMAC-SHA256 under a server-side key, compared in constant time. The
organisation file brings them; the IVR checks what a caller keys.

A PIN has 4 to 8 digits (6 recommended; a repeat, a run or a keypad column is refused on load): 10⁴
guesses break any slow hash offline, so what protects a PIN is the lockout (tickets/pins.py) and the key, which never leaves the server (derived from SECRET_KEY: the
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


_GUESSED_FIRST = {"2580", "0852", "1122", "112233", "1004", "2000", "6969", "147258", "159753"}


def weakness(pin: str) -> str | None:
    """Why `pin` would be among a guesser's first tries (a repeat, a run, a keypad column), or None."""
    if len(set(pin)) == 1:
        return "the same digit repeated"
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {9}):
        return "a run of digits"
    for size in range(1, len(pin) // 2 + 1):
        if len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size):
            return "a repeated pattern"
    if pin in _GUESSED_FIRST:
        return "among the first guesses"
    return None


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
