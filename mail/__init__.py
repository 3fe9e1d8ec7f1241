"""E-mail as a carrier of the outbox, over SMTP (the standard library's smtplib, STARTTLS when the
server offers it). Configured by SMTP_URL (smtp://user:password@host:port) and MAIL_FROM; without
SMTP_URL there is no e-mail and the e-mail channel has no carrier."""

from __future__ import annotations

from flask import Flask

from mail.smtp import SmtpCarrier, parse_smtp_url
from oncall import carriers


def register(app: Flask) -> None:
    url = app.config.get("SMTP_URL")
    if url:
        carriers.register(app, SmtpCarrier(parse_smtp_url(url), app.config.get("MAIL_FROM") or ""))
