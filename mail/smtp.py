"""One e-mail, one SMTP session: connect (bounded by SMTP_TIMEOUT), STARTTLS when offered, log in when
the address names a user, send. Failures are told in the outbox's words: a refused recipient is
permanent, a server that cannot be reached, answers 4xx or hangs is temporary, a refused login is the
carrier's fault (it is set aside like a failing Twilio)."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

from models import Channel
from oncall.carriers import Outgoing, SendError, Sent

AUTHENTICATION = 401  # the outbox's code for a refused login, whatever the carrier


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str | None
    password: str | None
    tls: bool  # smtps://: TLS from the first byte; smtp:// upgrades with STARTTLS when offered


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://user:password@host:port` (or `smtps://`); ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL: expected smtp://user:password@host:port")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("SMTP_URL: the port must be a number (smtp://user:password@host:587)") from None
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls else 587),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


class SmtpCarrier:
    """The e-mail carrier of the outbox."""

    name = "smtp"
    channels = frozenset({Channel.EMAIL})

    def __init__(self, server: SmtpServer, sender: str) -> None:
        self.server = server
        self.sender = sender or f"astreinte@{server.host}"

    @contextmanager
    def _session(self) -> Iterator[smtplib.SMTP]:
        """A logged-in SMTP session; every failure told as a SendError."""
        server = self.server
        timeout = float(current_app.config.get("SMTP_TIMEOUT", 10))
        try:
            cls = smtplib.SMTP_SSL if server.tls else smtplib.SMTP
            with cls(server.host, server.port, timeout=timeout) as smtp:
                smtp.ehlo()
                if not server.tls and smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if server.user:
                    smtp.login(server.user, server.password or "")
                yield smtp
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"SMTP login refused: {exc.smtp_code}", AUTHENTICATION, temporary=False) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise SendError(f"SMTP recipient refused: {code}", code, temporary=400 <= code < 500) from exc
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            raise SendError(f"SMTP error {code}", code, temporary=code < 500) from exc
        except (OSError, smtplib.SMTPException) as exc:  # a time-out is an OSError
            # Cut off after DATA the server may hold it, and no look-up exists: one more per fault at most.
            raise SendError(f"SMTP unreachable: {type(exc).__name__}", None, temporary=True) from exc

    def send(self, message: Outgoing) -> Sent:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = msgid = make_msgid(uuid.uuid4().hex[:12], domain=self.server.host)
        mail.set_content(message.body)
        with self._session() as smtp:
            refused = smtp.send_message(mail)
        if refused:
            code = next(iter(refused.values()))[0]
            raise SendError(f"SMTP recipient refused: {code}", code, temporary=400 <= code < 500)
        return Sent(msgid.strip("<>")[:64], "sent")

    def probe(self) -> None:
        """Connect, log in, say goodbye."""
        with self._session() as smtp:
            smtp.noop()

    def look_up(self, message: Outgoing, since: datetime, until: datetime | None) -> list[Sent]:
        return []  # SMTP keeps no list of what it accepted
