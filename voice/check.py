"""`astreinte check`: is the Twilio side set up as this deployment expects? Credentials, the support
number's capabilities, and its webhook URLs as configured at Twilio against PUBLIC_BASE_URL (Twilio
signs on the URL it calls: a number pointing elsewhere fails every signature check)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from org.load import NoOrganisation, current_org
from voice.production import start_problems
from voice.sender import _client

# The contract's entry points, set on the number (DESIGN).
VOICE, STATUS, SMS = "/voice/incoming", "/voice/status", "/sms/incoming"


class _Report:
    def __init__(self) -> None:
        self.failed = 0

    def ok(self, text: str) -> None:
        click.echo(f"ok    {text}")

    def warn(self, text: str) -> None:
        click.echo(f"warn  {text}")

    def fail(self, text: str) -> None:
        self.failed += 1
        click.echo(f"FAIL  {text}")


def _expect(report: _Report, what: str, found: str | None, wanted: str) -> None:
    if (found or "") == wanted:
        report.ok(f"{what}: {wanted}")
    else:
        report.fail(f"{what} is {found or '(empty)'!s}, expected {wanted}")


def run_checks() -> int:
    """Print one line per check; the number of failures."""
    config = current_app.config
    report = _Report()
    base = config["PUBLIC_BASE_URL"]
    if base.startswith("https://"):
        report.ok(f"PUBLIC_BASE_URL {base}")
    else:
        report.fail(f"PUBLIC_BASE_URL {base} is not HTTPS: Twilio must reach astreinte over TLS")
    problems = start_problems(dict(os.environ))  # what a start would refuse
    for problem in problems:
        report.fail(problem)
    if not problems and config.get("PRODUCTION"):
        report.ok("secrets: Twilio token, SECRET_KEY and METRICS_TOKEN set, none a placeholder")
    if config.get("PRODUCTION") and not config.get("METRICS_TOKEN"):
        report.warn("no METRICS_TOKEN: /metrics is closed (403)")
    if config["TWILIO_OUTBOX"]:
        report.fail("no TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN: outbox mode, nothing reaches a phone")
        return report.failed
    try:
        support = current_org().support_number
    except NoOrganisation as exc:
        report.fail(str(exc))
        return report.failed
    client = _client()
    try:
        account: Any = client.api.v2010.accounts(config["TWILIO_ACCOUNT_SID"]).fetch()
    except Exception as exc:  # noqa: BLE001 - whatever Twilio says is the answer
        report.fail(f"credentials refused or Twilio unreachable: {exc}")
        return report.failed
    if account.status == "active":
        report.ok(f"credentials: account {account.sid} is active")
    else:
        report.fail(f"account {account.sid} is {account.status}")
    try:
        numbers: list[Any] = client.incoming_phone_numbers.list(phone_number=support, limit=1)
    except Exception as exc:  # noqa: BLE001
        report.fail(f"the account's numbers could not be read: {exc}")
        return report.failed
    if not numbers:
        report.fail(f"support number {support} (organisation file) is not a number of this account")
        return report.failed
    number = numbers[0]
    service = config.get("TWILIO_MESSAGING_SERVICE_SID")
    capabilities = number.capabilities or {}
    if capabilities.get("voice"):
        report.ok(f"{support} takes voice calls")
    else:
        report.fail(f"{support} cannot take voice calls")
    if capabilities.get("sms"):
        report.ok(f"{support} can send and receive SMS")
    elif service:
        report.warn(f"{support} has no SMS: pages go through Messaging Service {service}")
    else:
        report.fail(f"{support} has no SMS: set TWILIO_MESSAGING_SERVICE_SID (docs/deploy.md)")
    _expect(report, "voice webhook", number.voice_url, base + VOICE)
    if (number.voice_method or "POST").upper() != "POST":
        report.fail(f"voice webhook method is {number.voice_method}, expected POST")
    _expect(report, "call status callback", number.status_callback, base + STATUS)
    if service:
        report.warn(f"SMS replies: check that Messaging Service {service} sends incoming SMS to {base + SMS}")
    else:
        _expect(report, "messaging webhook", number.sms_url, base + SMS)
    if number.voice_fallback_url:
        report.ok(f"fallback URL: {number.voice_fallback_url}")
    else:
        report.warn("no fallback URL: callers hear Twilio's error when astreinte is down (deploy/twilio/)")
    return report.failed


@click.command("check", help="Check the Twilio setup: credentials, the support number, its webhook URLs.")
@with_appcontext
def check_command() -> None:
    failed = run_checks()
    click.echo(f"{failed} problem(s)" if failed else "the Twilio setup matches this deployment")
    sys.exit(1 if failed else 0)
