"""A real SMTP server on 127.0.0.1 (aiosmtpd), in a thread: it keeps every e-mail the application sends,
checks the login of the SMTP_URL, and can be told to refuse (a 4xx or 5xx) or to go silent.

One fake network (devtools/): beside fake_twilio.py and fake_vonage.py, used by the tests (their fixtures
in tests/smtp_server.py) and by local runs. `smtp_config(base, server)` points an application at it.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "astreinte", "mail-secret-0123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    to: list[str]
    sender: str
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.box.refuse:
            return self.box.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.box.silent:
            time.sleep(self.box.silent)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.box.lock:
            self.box.mails.append(Mail(list(envelope.rcpt_tos), envelope.mail_from, message))  # type: ignore[arg-type]
        return "250 Message accepted"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # refused: the server answers 535


class Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mails: list[Mail] = []
        self.refuse: str | None = None  # e.g. "550 no such user"
        self.silent: float = 0.0
        self.controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=_authenticator,
            auth_require_tls=False,
        )
        self.controller.start()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def url(self, user: str = USER, password: str = PASSWORD) -> str:
        return f"smtp://{user}:{password}@127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.mails.clear()
        self.refuse, self.silent = None, 0.0

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.to]

    def close(self) -> None:
        self.controller.stop()


def smtp_config(base: dict[str, Any], box: Mailbox) -> dict[str, Any]:
    return {**base, "SMTP_URL": box.url(), "MAIL_FROM": "astreinte@support.example", "SMTP_TIMEOUT": 1}
