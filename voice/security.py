"""Every Twilio route checks X-Twilio-Signature against the public URL Twilio called (403 otherwise)."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def public_request_url() -> str:
    """The URL as Twilio saw it: PUBLIC_BASE_URL + path + query (we may sit behind a proxy)."""
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    return url


def signature_is_valid() -> bool:
    """Twilio signs the URL with or without its port (the helper's `validate` computes both). The URL
    as configured is one of the two: a match on it settles the common case with one HMAC, anything
    else goes through `validate`, which decides as before."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    url = public_request_url()
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return bool(validator.validate(url, params, signature))


def form_value(name: str, size: int | None = None) -> str:
    """A form value as the database can keep it: no NUL byte (PostgreSQL refuses them in text), at
    most `size` characters (Twilio's values grow; an overlong one must not fail the request)."""
    value = request.form.get(name, "").replace("\x00", "").strip()
    return value[:size] if size is not None else value


MAX_ID = 2**31 - 1  # the database's integer ids: a larger `?page=` is no row, not an overflow


def id_arg(name: str) -> int:
    """A row id from the query string (`?page=`, `?test=`): 0 when absent, malformed or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else 0


def twilio_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a webhook: forged or unsigned requests get 403 and touch nothing."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not signature_is_valid():
            log.warning("refused a Twilio request with a bad signature on %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper
