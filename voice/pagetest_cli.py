"""`astreinte page test PERSON`: a test SMS and a test call to one person through Twilio, and what came
back, as it comes: Twilio's answer to each request, the delivery receipt, the call ringing, answered,
1 pressed. Exit 0 only when the SMS was delivered and the person pressed 1 (what a real page needs).

Statuses come from Twilio's callbacks (written by the web process) and, every few seconds, from
asking Twilio directly: the report holds even when PUBLIC_BASE_URL does not reach this deployment.
"""

from __future__ import annotations

import getpass
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from models import PageTest, Person, session
from oncall import pagetests
from org.load import current_org
from org.phones import readable_phone
from voice.pagetest import look_up

POLL_SECONDS = 1.0
LOOK_UP_EVERY = 5.0

# What the usual refusals mean, and what to do about them (Twilio's error codes).
ADVICE = {
    "21211": "the number is not a valid phone number: correct it in the organisation file",
    "21408": "this country is not enabled for this account: Twilio console, geo permissions",
    "21610": "this phone sent STOP to the sending number: it must text START to it to receive pages",
    "21612": "Twilio cannot text this number from the sending number",
    "21614": "not a mobile number: SMS cannot reach it",
    "30003": "the phone is off, or out of coverage",
    "30005": "the number does not exist, or no longer",
    "30006": "a landline, or a carrier Twilio cannot reach",
    "30007": "the carrier filtered the message (spam filter): ask Twilio support, or use a Messaging Service",
    "30008": "unknown error at the carrier: try again, then ask Twilio support",
    "13224": "the number is not a valid phone number: correct it in the organisation file",
    "13227": "calls to this country are not enabled for this account: Twilio console, geo permissions",
    "network": "Twilio could not be reached from this machine",
}


@click.group("page", help="Pages: test a person's page before the night needs it.")
def page_group() -> None:
    pass


@page_group.command("test", help="Send PERSON (an id of the organisation file) a test SMS and a test call.")
@click.argument("person_id", metavar="PERSON")
@click.option("--sms/--no-sms", default=True, show_default=True, help="Send the test SMS.")
@click.option("--call/--no-call", default=True, show_default=True, help="Place the test call.")
@click.option(
    "--wait",
    default=120,
    show_default=True,
    type=click.IntRange(0, 600),
    help="Seconds to wait for the delivery receipt and the key 1.",
)
@with_appcontext
def page_test_command(person_id: str, sms: bool, call: bool, wait: int) -> None:
    person = session.get(Person, person_id)
    if person is None:
        known = ", ".join(session.scalars(select(Person.id).order_by(Person.id)))
        raise click.UsageError(
            f"no person {person_id!r} (known: {known or 'none: load the organisation file'})"
        )
    if not person.phone:
        raise click.UsageError(f"{person.name} has no phone number")
    if not (sms or call):
        raise click.UsageError("nothing to test: --no-sms and --no-call")
    by = tuple(ch for ch, wanted in (("sms", sms), ("voice", call)) if wanted)
    test = pagetests.start(person, by, "command", requested_by=getpass.getuser())
    assert test is not None  # only evening tests can meet an existing one
    what = " and ".join({"sms": "an SMS", "voice": "a call"}[ch] for ch in by)
    click.echo(
        f"page test {test.id} of {person.name} ({person.id}), {readable_phone(person.phone, current_org().region)}: {what}"
    )
    if not person.active:
        click.echo("warn  this person is not active: the policy never pages them")
    pagetests.send_test(test.id)
    session.refresh(test)
    outcome = _follow(test, wait)
    sys.exit(0 if outcome == "ok" else 1)


def _follow(test: PageTest, wait: int) -> str:
    seen: dict[str, str] = {}
    started = time.monotonic()
    _report(test, seen, started)
    if pagetests.NOT_SENT in (test.sms_status, test.call_status):
        pagetests.finish(test)
        click.echo(
            "FAIL  local outbox: nothing left this machine (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"
        )
        return "not-sent"
    deadline = time.monotonic() + wait
    next_look_up = time.monotonic() + LOOK_UP_EVERY
    while not pagetests.settled(test) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        session.expire_all()  # the web process writes the callbacks
        if time.monotonic() >= next_look_up:
            look_up(test)
            next_look_up = time.monotonic() + LOOK_UP_EVERY
        _report(test, seen, started)
    if not pagetests.settled(test):
        look_up(test)
        _report(test, seen, started)
    outcome = pagetests.finish(test)
    _verdict(test, outcome)
    return outcome


def _report(test: PageTest, seen: dict[str, str], started: float) -> None:
    """One line for each new thing Twilio said, with the seconds since the test left."""
    lines = {
        "sms": _status_line(test.sms_sid, test.sms_status, test.sms_error),
        "call": _status_line(test.call_sid, test.call_status, test.call_error)
        + (f", answered by {test.answered_by}" if test.answered_by else ""),
        "key": "1 pressed: confirmed" if test.confirmed_at else "",
    }
    for what, line in lines.items():
        wanted = "sms" if what == "sms" else "voice"
        if line and wanted in pagetests.channels_of(test) and seen.get(what) != line:
            seen[what] = line
            click.echo(f"  {time.monotonic() - started:>4.0f}s  {what:<5} {line}")


def _status_line(sid: str | None, status: str | None, error: str | None) -> str:
    if status is None:
        return ""
    text = f"{sid}  {status}" if sid else status
    if error:
        text += f" (Twilio error {error}: {ADVICE.get(error, 'see twilio.com/docs/api/errors/' + error)})"
    return text


def _verdict(test: PageTest, outcome: str) -> None:
    name = test.person.first_name
    if outcome == "ok":
        proofs = {"sms": "SMS delivered", "voice": "1 pressed in the call"}
        proof = ", ".join(proofs[ch] for ch in pagetests.channels_of(test))
        click.echo(f"passed: {name}'s page works ({proof}).")
        return
    for code in pagetests.problems(test, final=True):
        click.echo(f"FAIL  {code.replace('-', ' ')}: {_hint(test, code)}")
    if outcome == "unconfirmed":
        if "sms" in pagetests.channels_of(test) and test.sms_status == "sent":
            click.echo(
                "warn  the SMS left Twilio but no delivery receipt came: ask the person whether it arrived"
            )
        if "voice" in pagetests.channels_of(test) and test.confirmed_at is None:
            click.echo(
                "warn  the call was answered but 1 was not pressed; if the person heard 'an application "
                "error has occurred', Twilio could not reach PUBLIC_BASE_URL (run astreinte check)"
            )
        click.echo(f"unconfirmed: {name}'s phone was reached, without the proof a page needs.")
    else:
        click.echo(f"FAILED: {name}'s page does not get through.")


def _hint(test: PageTest, code: str) -> str:
    ring = current_app.config["PAGE_RING_SECONDS"]
    error = test.sms_error if code.startswith("sms") else test.call_error
    if error and error in ADVICE:
        return ADVICE[error]
    return {
        "sms-failed": "the carrier did not deliver it",
        "sms-silent": "no status came back (no callback reached astreinte, and Twilio has no final one)",
        "call-busy": "the line was busy",
        "call-no-answer": f"nobody answered within {ring} s (silent mode, do not disturb?)",
        "call-machine": f"voicemail answered before the person: the phone must ring longer than {ring} s "
        "before its voicemail",
        "call-failed": "Twilio could not place the call",
        "call-canceled": "the call was cancelled",
        "call-silent": "the call never rang (no callback reached astreinte, and Twilio has no final status)",
    }.get(code, code)
