"""Client PINs: stored hashed (werkzeug's salted scrypt hashes), compared in constant time. The
organisation file brings them; the IVR checks what a caller keys."""

from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash


def hash_pin(pin: str) -> str:
    """A salted scrypt hash. PIN_HASH_METHOD may lower the work factor where speed matters more
    than the cost of an attack (the test suite: "scrypt:1024:8:1"); checks read it from the hash."""
    return generate_password_hash(pin, method=current_app.config["PIN_HASH_METHOD"])


def pin_matches(pin: str, pin_hash: str) -> bool:
    """Constant-time check (werkzeug compares with hmac.compare_digest)."""
    if not pin_hash:
        return False
    return check_password_hash(pin_hash, pin)
