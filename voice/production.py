"""What a production start needs, and what a development start must say out loud.

A production start (PUBLIC_BASE_URL in https) refuses to run with a secret that is missing, a
placeholder of deploy/astreinte.env.example, or too short, naming the variable: a silent fallback
would page nobody (outbox mode) or let anyone forge a session cookie or a webhook (a known key).
The same for the other carriers: a Vonage configured without its webhooks' signature secret (or with
a placeholder or short one), an SMTP_URL that cannot be read. Local-outbox mode in production only when
asked for, with ASTREINTE_OUTBOX=1."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from words.catalogue import register, text

DEV_AUTH_TOKEN = "astreinte-development-token"  # signs webhooks in local-outbox mode only
MIN_SECRET = 32  # characters of SECRET_KEY and METRICS_TOKEN (`openssl rand -hex 32` gives 64)
MIN_CARRIER_SECRET = 16  # a carrier's own secret: its length is the carrier's choice, but never a word
_PLACEHOLDER = re.compile(r"change[-_ ]?me|x{8,}|example|placeholder", re.IGNORECASE)

register(
    {
        "health.outbox": {
            "fr": "boîte locale : les alertes ne partent pas, rien ne quitte cette machine "
            "(TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN absents, ou ASTREINTE_OUTBOX=1)",
            "en": "local outbox: pages are not leaving this machine "
            "(no TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, or ASTREINTE_OUTBOX=1)",
        },
    }
)


def is_production(config: dict[str, Any]) -> bool:
    return str(config.get("PUBLIC_BASE_URL") or "").startswith("https://")


def _weak(value: str | None) -> str | None:
    if not value:
        return "is missing"
    if _PLACEHOLDER.search(value):
        return "is a placeholder (deploy/astreinte.env.example)"
    if len(value) < MIN_SECRET:
        return f"is shorter than {MIN_SECRET} characters"
    return None


def start_problems(env: dict[str, str]) -> list[str]:
    """Why a production start must not run, one sentence per variable; none outside production.
    `env` is the process environment: what was set, not the defaults filled in for development."""
    if not is_production({"PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL")}):
        return []
    problems = []
    sid, token = env.get("TWILIO_ACCOUNT_SID"), env.get("TWILIO_AUTH_TOKEN")
    outbox_asked = env.get("ASTREINTE_OUTBOX") == "1"
    if sid and not token:
        problems.append(
            "TWILIO_AUTH_TOKEN is missing while TWILIO_ACCOUNT_SID is set: nothing would be paged, and "
            "webhooks would be checked against the public development token"
        )
    elif token and not sid and not outbox_asked:
        problems.append("TWILIO_ACCOUNT_SID is missing while TWILIO_AUTH_TOKEN is set")
    elif not sid and not token and not outbox_asked:
        problems.append(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are missing: nothing would be paged "
            "(set ASTREINTE_OUTBOX=1 to run in local-outbox mode on purpose)"
        )
    if token and (token == DEV_AUTH_TOKEN or _PLACEHOLDER.search(token) or len(token) < 16):
        problems.append("TWILIO_AUTH_TOKEN is a placeholder or the development token")
    if sid and not re.fullmatch(r"AC[0-9a-f]{32}", sid):
        problems.append("TWILIO_ACCOUNT_SID is a placeholder (an account SID is AC and 32 hex digits)")
    if reason := _weak(env.get("SECRET_KEY")):
        problems.append(f"SECRET_KEY {reason}: anyone knowing it forges sessions and take-over links")
    metrics = env.get("METRICS_TOKEN")
    if metrics and (reason := _weak(metrics)):
        problems.append(f"METRICS_TOKEN {reason}")
    return problems + _carrier_problems(env)


def _carrier_problems(env: dict[str, str]) -> list[str]:
    """The carriers beside Twilio: Vonage's webhooks (an SMS reply, a page call's key take a callout
    over) are only as safe as their signature secret; a mail server astreinte cannot read the address
    of would leave every e-mail page unsent."""
    problems = []
    if env.get("VONAGE_API_KEY"):
        secret = env.get("VONAGE_SIGNATURE_SECRET")
        if not secret:
            problems.append(
                "VONAGE_SIGNATURE_SECRET is missing while VONAGE_API_KEY is set: Vonage's webhooks "
                "(SMS replies, page-call keys) could not be checked"
            )
        elif _PLACEHOLDER.search(secret):
            problems.append("VONAGE_SIGNATURE_SECRET is a placeholder (deploy/astreinte.env.example)")
        elif len(secret) < MIN_CARRIER_SECRET:
            problems.append(f"VONAGE_SIGNATURE_SECRET is shorter than {MIN_CARRIER_SECRET} characters")
    if url := env.get("SMTP_URL"):
        if reason := _bad_smtp_url(url):
            problems.append(f"SMTP_URL {reason} (expected smtp://user:password@host:port, or smtps://)")
    return problems


def _bad_smtp_url(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        return "does not start with smtp:// or smtps://"
    if not parts.hostname:
        return "names no host"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return "has a port that is not a number"
    return None


def outbox_warnings(lang: str) -> list[str]:
    """The warning of /healthz and the dashboard's banner when pages do not leave the machine: the
    outbox of `make run` (the development token) or one asked for in production."""
    config = current_app.config
    development = config.get("TWILIO_AUTH_TOKEN") == DEV_AUTH_TOKEN
    if config.get("TWILIO_OUTBOX") and (development or config.get("PRODUCTION")):
        return [text("health.outbox", lang)]
    return []
