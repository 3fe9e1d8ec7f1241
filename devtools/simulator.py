"""A fake phone that walks TwiML the way Twilio does, signing every request like Twilio.

It powers the tests (`phone.call(...).expect("numéro de requête").press("104233#")`) and
`astreinte call`. The transport is a Flask test client (in-process) or a base URL (HTTP).
`Phone` places and answers calls and sends the signed requests; `Call` (in `simulator_call`)
walks the TwiML of one call.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from twilio.request_validator import RequestValidator

from devtools.simulator_call import ACCOUNT_SID, API_VERSION, STATUS_PATH, Call, Sent, new_sid
from org.load import current_org

__all__ = ["ACCOUNT_SID", "API_VERSION", "STATUS_PATH", "Call", "Phone", "Sent", "new_sid"]


class Phone:
    """Places (`call`) and answers (`answer`) simulated calls against the application."""

    def __init__(
        self, transport: Any, auth_token: str, public_base_url: str, support_number: str | None = None
    ) -> None:
        self.transport = transport
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/")
        self.support_number = support_number

    # --- placing and answering calls ------------------------------------------------------------

    def call(
        self, from_: str = "+33611223344", to: str | None = None, status_callback: str | None = STATUS_PATH
    ) -> Call:
        """An inbound call from `from_` to the support number: POSTs /voice/incoming."""
        call = Call(self, new_sid("CA"), from_, to or self._support_number(), "inbound", status_callback)
        call._fetch("/voice/incoming", "POST", {"CallStatus": "ringing"})
        return call

    def answer(
        self,
        url: str,
        call_sid: str | None = None,
        from_: str | None = None,
        to: str = "",
        answered_by: str | None = "human",
        status_callback: str | None = None,
    ) -> Call:
        """Pick up an outbound call the application placed, whose TwiML lives at `url`."""
        call = Call(
            self,
            call_sid or new_sid("CA"),
            from_ or self._support_number(),
            to,
            "outbound-api",
            status_callback,
        )
        extra = {"CallStatus": "in-progress"}
        if answered_by:
            extra["AnsweredBy"] = answered_by
            call.base["AnsweredBy"] = answered_by
        call._fetch(url, "POST", extra)
        return call

    def _support_number(self) -> str:
        if self.support_number:
            return self.support_number
        app = getattr(self.transport, "application", None)
        if app is None:
            raise ValueError("over HTTP, say which number is called: Phone(..., support_number=...) or to=")

        with app.app_context():
            self.support_number = current_org().support_number
        return self.support_number

    # --- requests -------------------------------------------------------------------------------

    @property
    def in_process(self) -> bool:
        return not isinstance(self.transport, str)

    def path_of(self, url: str) -> str:
        """An absolute URL on PUBLIC_BASE_URL back to the path (with query) the transport serves."""
        if url.startswith(self.public_base_url):
            return url[len(self.public_base_url) :] or "/"
        parts = urllib.parse.urlsplit(url)
        if parts.scheme:
            raise AssertionError(
                f"Twilio could not reach {url}: not on PUBLIC_BASE_URL {self.public_base_url}"
            )
        return url

    def send(
        self, url: str, params: dict[str, str], method: str = "POST", signature: str | None = None
    ) -> tuple[int, str]:
        """One signed request, as Twilio makes it. Returns (HTTP status, body)."""
        path = self.path_of(url)
        method = method.upper()
        if method == "GET":
            sep = "&" if "?" in path else "?"
            path = path + sep + urllib.parse.urlencode(params) if params else path
            signed = self.validator.compute_signature(self.public_base_url + path, {})
        else:
            signed = self.validator.compute_signature(self.public_base_url + path, params)
        headers = {"X-Twilio-Signature": signature if signature is not None else signed}
        if self.in_process:
            if method == "GET":
                resp = self.transport.get(path, headers=headers)
            else:
                resp = self.transport.post(path, data=params, headers=headers)
            return resp.status_code, resp.get_data(as_text=True)
        data = urllib.parse.urlencode(params).encode() if method == "POST" else None
        req = urllib.request.Request(
            self.transport.rstrip("/") + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own server
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def recordings_dir(self) -> Path | None:
        app = getattr(self.transport, "application", None)
        return Path(app.config["RECORDINGS_DIR"]) if app is not None else None
