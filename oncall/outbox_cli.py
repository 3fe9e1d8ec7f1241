"""`astreinte outbox [--limit N] [--person ID]`: the last messages astreinte sent (or tried to), newest
first: when, to whom, by which channel and carrier, what became of it, and what it said. In local-outbox
mode it is what a technician would have received; with carriers, what they took. A message the outbox
will try again says when; one it gave up on says so."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from models import OutgoingMessage, Person, session
from oncall import outbox, retries
from org.load import NoOrganisation, current_org


def _said(message: OutgoingMessage, width: int) -> str:
    text = message.subject or message.body or ""
    if not text and message.page_id and message.details and message.details.get("with"):
        text = f"(with message {message.details['with']})"
    text = " ".join(text.split())
    return text if width <= 0 or len(text) <= width else text[: width - 1] + "…"


@click.command("outbox", help="The last messages sent to anyone (pages, SMS, alerts, e-mails), newest first.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--person", "person_id", help="Only the messages to this person (their id in the org file).")
@click.option("--width", default=100, show_default=True, type=int, help="Cut the text there (0: whole).")
@with_appcontext
def outbox_command(limit: int, person_id: str | None, width: int) -> None:
    try:
        tz = current_org().timezone
    except NoOrganisation:
        tz = None
    names = {p.id: p.name for p in session.scalars(select(Person))}
    if person_id is not None and person_id not in names:
        raise click.BadParameter(f"nobody has the id {person_id!r}", param_hint="--person")
    rows = outbox.latest(limit, person_id)
    if not rows:
        click.echo("No message yet.")
        return
    for m in rows:
        at = m.created_at.astimezone(tz) if tz else m.created_at
        who = names.get(m.person_id or "", "") or m.to_address
        click.echo(
            f"{at:%Y-%m-%d %H:%M:%S}  {who:<18.18} {m.to_address:<24.24} {m.channel.value:<5} "
            f"{m.carrier or '-':<7} {m.state.value:<16} {m.kind:<12} {_said(m, width)}{_fate(m, tz)}"
        )


def _fate(message: OutgoingMessage, tz: tzinfo | None) -> str:
    details = message.details or {}
    if retries.retrying(message):
        again = datetime.strptime(details["retry_at"], retries.WHEN).replace(tzinfo=UTC)
        return f"  [tried again at {again.astimezone(tz):%H:%M:%S}]"
    if details.get("given_up"):
        return "  [given up after its last try]"
    return ""
