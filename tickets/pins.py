"""Client PINs: stored hashed, compared in constant time (werkzeug's scrypt hashes)."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_pin(pin: str) -> str:
    return generate_password_hash(pin, method="scrypt")


def pin_matches(pin: str, pin_hash: str) -> bool:
    """Constant-time check (werkzeug compares with hmac.compare_digest)."""
    if not pin_hash:
        return False
    return check_password_hash(pin_hash, pin)
