"""Every Twilio route checks X-Twilio-Signature against the public URL Twilio called (403 otherwise).

Work before trust is bounded: a request whose signature cannot be right is refused before any work
that grows with its size. The body's length and its number of fields are bounded first (Twilio's
webhooks are a few dozen short fields), the signature's shape is checked next (28 characters of
base64: an HMAC-SHA1), and the form is parsed and hashed once, so a junk-signed 700 kB body of
90,000 empty fields costs microseconds, not seconds of CPU taken from real calls."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, request

log = logging.getLogger(__name__)

# Twilio's largest webhooks (an SMS of 1,600 characters with its media links, a call status with
# every field) are a few kilobytes and under a hundred fields.
MAX_BODY = 64 * 1024
MAX_FIELDS = 200
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{27}=")  # base64 of the 20 bytes of an HMAC-SHA1


def public_request_url() -> str:
    """The URL as Twilio saw it: PUBLIC_BASE_URL + path + query (we may sit behind a proxy)."""
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    return url


def _other_port_form(url: str) -> str | None:
    """Twilio signs the URL with or without its default port (https: 443): the form not configured."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port is None and default is not None:
        return parts._replace(netloc=f"{parts.netloc}:{default}").geturl()
    if parts.port is not None and parts.port == default:
        return parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]).geturl()
    return None


def _signed_text() -> str:
    """What Twilio signs after the URL: every field name followed by each of its values, names and
    values sorted; every value, so a repeated field cannot slip an unsigned second value in."""
    if request.method != "POST":
        return ""
    form = request.form
    return "".join(name + value for name in sorted(form) for value in sorted(set(form.getlist(name))))


def _sign(url: str, text: str) -> bytes:
    token = str(current_app.config["TWILIO_AUTH_TOKEN"]).encode()
    return base64.b64encode(hmac.new(token, (url + text).encode(), hashlib.sha1).digest())


def signature_is_valid() -> bool:
    """One HMAC on the URL as configured over the form read once; the same URL with or without its
    default port is the only other try. Call it on a request that passed `_cheap_refusal`."""
    signature = request.headers.get("X-Twilio-Signature", "")
    text = _signed_text()
    url = public_request_url()
    if hmac.compare_digest(_sign(url, text), signature.encode()):
        return True
    other = _other_port_form(url)
    return other is not None and hmac.compare_digest(_sign(other, text), signature.encode())


def _cheap_refusal() -> int | None:
    """413 or 403 for a request that cannot be a good webhook, found without parsing its form: a
    signature not shaped like Twilio's, a body over MAX_BODY, more than MAX_FIELDS fields."""
    if (request.content_length or 0) > (current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY):
        return 413
    if not _SIGNATURE.fullmatch(request.headers.get("X-Twilio-Signature", "")):
        return 403
    if (request.content_length or 0) > MAX_BODY:
        return 413
    data = request.get_data(cache=True)  # at most MAX_BODY bytes (or MAX_CONTENT_LENGTH when chunked)
    if len(data) > MAX_BODY:
        return 413
    if data.count(b"&") >= MAX_FIELDS:
        return 403
    return None


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
        refusal = _cheap_refusal()
        if refusal is None and not signature_is_valid():
            refusal = 403
        if refusal is not None:
            log.warning("refused a Twilio request with a bad signature on %s (%s)", request.path, refusal)
            abort(refusal)
        sid = request.form.get("CallSid") or request.form.get("MessageSid") or ""
        if re.fullmatch(r"[A-Z]{2}\w{1,64}", sid):
            g.call_sid = sid  # on every log line of this request
        return view(*args, **kwargs)

    return wrapper
