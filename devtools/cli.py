"""`astreinte call FROM`: walk the IVR in a terminal with the fake phone.

Each prompt is printed; type keys and Enter (`104233#`), an empty line for silence, `h` to hang up,
`r` / `r20` to speak for 20 seconds after the beep (`r20h`: then hang up), `a` / `n` when the desk
rings (answered / no answer); when a technician's phone rings (talk now), `t` / `m` / `n` (the technician
picks up and then keys 1 or nothing, a voicemail picks up, no answer). In-process on a throw-away database by default (the live organisation,
or the example one, copied into it: nothing reaches the live database, the queue or Twilio), or over
HTTP against a running server with `--url`.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

import clock
from devtools.network import Network
from devtools.sandbox import example_organisation, live_organisation, throwaway
from devtools.simulator import Call, Phone
from org.load import NoOrganisation, current_org
from tickets.calls import find_call

_RECORD = re.compile(r"^r(\d*)(h?)$")
_HINTS = {
    "gather": "keys then Enter, empty = silence, h = hang up",
    "record": "r20 = speak 20 s, r20h = then hang up, empty = silence, h = hang up",
    "dial": "a = the desk answers, n = no answer, h = hang up",
    "screened": "t = the technician picks up, m = a voicemail picks up, n = no answer, h = hang up",
    "technician": "the technician's keys (1 takes the call), empty = silence",
}


@click.command("call", help="Call the support number from FROM and walk the IVR in the terminal.")
@click.argument("from_number", metavar="FROM")
@click.option("--to", "to_number", default=None, help="The number called (default: the support number).")
@click.option("--url", default=None, help="A running server (http://127.0.0.1:5000); default: in-process.")
@click.option(
    "--at",
    "at",
    default=None,
    metavar="'YYYY-MM-DD HH:MM'",
    help="In-process only: call at this local time (e.g. a night, a holiday) instead of now.",
)
@with_appcontext
def call_command(from_number: str, to_number: str | None, url: str | None, at: str | None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if url:
        if at:
            raise click.UsageError("--at works in-process only: a running server keeps its own clock")
        _walk(app, url, from_number, to_number)
        return
    document = live_organisation(app)
    if document is None:
        document = example_organisation()
        click.echo("-- no organisation loaded: the example one (examples/org.yaml) answers")
    click.echo("-- a throw-away database: nothing reaches the live database, the queue or Twilio")
    with throwaway(app, document):
        if at:
            _freeze(at)
        _walk(app, app.test_client(), from_number, to_number)


def _walk(app: Flask, transport: Any, from_number: str, to_number: str | None) -> None:
    url = transport if isinstance(transport, str) else None
    support = to_number
    if support is None:
        try:
            support = current_org().support_number
        except NoOrganisation as exc:
            raise click.ClickException(str(exc)) from None
    phone = Phone(
        transport, app.config["TWILIO_AUTH_TOKEN"], app.config["PUBLIC_BASE_URL"], support_number=support
    )
    try:
        call = phone.call(from_=from_number, to=support)
    except AssertionError as exc:
        raise click.ClickException(str(exc)) from None
    _show(call, 0)
    while not call.ended:
        line = _read("screened" if call.screened else call.pending or "")
        before = len(call.said)
        try:
            _act(call, line.strip())
        except AssertionError as exc:
            click.echo(str(exc).splitlines()[0], err=True)
            continue
        _show(call, before)
    click.echo("-- call ended")
    if not url:
        _summary(call.sid)
        click.echo("-- what left, person by person (channel, carrier, text):")
        for line in Network().by_person():
            click.echo("  " + line)


def _read(pending: str) -> str:
    """One line of keys. The hint has its own line, so what is said next never runs into it; typed
    keys that a terminal did not echo (piped input) are echoed, so the transcript reads like a call."""
    click.echo(f"  [{pending}: {_HINTS.get(pending, '')}]")
    click.echo("> ", nl=False)
    line = sys.stdin.readline()
    if not line:  # end of input: the caller hangs up
        click.echo("h")
        return "h"
    if not sys.stdin.isatty():
        click.echo(line.rstrip("\n") or "(silence)")
    return line


def _freeze(at: str) -> None:
    try:
        local = datetime.strptime(at, "%Y-%m-%d %H:%M")
    except ValueError:
        raise click.BadParameter("write it like '2026-11-24 23:10'", param_hint="--at") from None
    clock.set(local.replace(tzinfo=current_org().timezone))


def _act(call: Call, line: str) -> None:
    if line == "h":
        call.hangup()
    elif call.pending == "record":
        m = _RECORD.match(line)
        if line == "":
            call.silence()
        elif m:
            call.record(seconds=int(m.group(1) or 20), hangup=bool(m.group(2)))
        else:
            raise AssertionError("type r, r20, r20h, an empty line or h")
    elif call.screened and line in ("t", "m"):
        _technician(call, line)
    elif call.pending == "dial":
        if line == "a":
            call.dial_answered()
        elif line in ("n", ""):
            call.dial_unanswered()
        else:
            raise AssertionError("type a, n or h")
    elif line == "":
        call.silence()
    else:
        call.press(line)


def _technician(call: Call, line: str) -> None:
    """The technician's phone is picked up: the whisper, their key, and the two put through."""
    leg = call.pick_up(answered_by="human" if line == "t" else "machine_end_beep")
    for text in leg.said:
        click.echo(f"  technician « {text} »")
    if line == "m":
        click.echo("  (a voicemail picks up: it presses nothing)")
        keys = ""
    else:
        keys = _read("technician").strip()
    heard = len(leg.said)
    if keys in ("", "h"):
        leg.silence()
    else:
        leg.press(keys)
    for text in leg.said[heard:]:
        click.echo(f"  technician « {text} »")
    if leg.bridged:
        click.echo("-- put through: the client and the technician talk (1 minute)")
        call.talk(60)


def _show(call: Call, since: int) -> None:
    for text in call.said[since:]:
        click.echo(f"  « {text} »")


def _summary(sid: str) -> None:
    row = find_call(sid)
    if row is None:
        return
    parts = [f"outcome: {row.outcome.value}"]
    if row.reason:
        parts.append(f"reason: {row.reason}")
    if row.ticket is not None:
        parts.append(f"ticket: {row.ticket.number}")
    if row.callback_number:
        parts.append(f"callback: {row.callback_number}")
    click.echo("-- " + ", ".join(parts))
