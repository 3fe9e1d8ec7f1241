"""`astreinte demo`: a scripted night, offline and end to end, on a throw-away database (`--keep FILE`
leaves it for a morning review in the dashboard).

Two clients call after hours through the real IVR (the fake phone over the in-process application);
the first message is taken over at the first page (the technician presses 1), nobody answers the
second one until the supervisor takes it over by SMS, after the 30 minutes (escalation level 1).
Nothing leaves the machine: Twilio is the local outbox, the clock is frozen and moved by the script.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

import clock
from devtools.network import Network
from devtools.sandbox import example_organisation, recordings_beside, throwaway
from devtools.simulator import Call, Phone
from models import (
    Callout,
    Channel,
    MessageState,
    OutgoingMessage,
    Page,
    Person,
    Ticket,
    TicketEvent,
    TicketStatus,
    session,
)
from oncall.links import absolute_url
from oncall.sweeper import sweep
from oncall.ticket_changes import TicketChange, change_ticket
from org.load import current_org
from tickets.service import create_ticket
from tickets.timeline import tell
from voice.sender import new_local_sid
from words.ui import label

ISABELLE = "+33611223344"  # Boulangerie Dupont's contact, on her mobile
NIGHT_CALLER = "+33699887766"  # the baker's night shift, another mobile


class Night:
    """The script: each step moves the clock, acts like a person would, and says what happened."""

    def __init__(self, app: Flask, evening: datetime, echo: Any = click.echo) -> None:
        self.app = app
        self.org = current_org()
        self.echo = echo
        self.start = evening
        self.phone = Phone(
            app.test_client(),
            app.config["TWILIO_AUTH_TOKEN"],
            app.config["PUBLIC_BASE_URL"],
            support_number=self.org.support_number,
        )
        self.callouts: list[int] = []
        self.shown = {m for m in session.scalars(select(OutgoingMessage.id))}  # earlier runs' messages

    def local(self, at: datetime | None = None) -> str:
        return f"{(at or clock.now()).astimezone(self.org.timezone):%H:%M}"

    def say(self, text: str) -> None:
        self.echo(f"{self.local()}  {text}")

    # --- the people --------------------------------------------------------------------------------

    def client_calls(self, from_: str, ticket: str, pin: str) -> Callout:
        self.say(f"{from_} appelle le {self.org.support_number} (requête {ticket})")
        call = self.phone.call(from_=from_)
        call.press(f"{ticket}#").press(f"{pin}#").silence()  # ticket, PIN, caller ID kept
        call.record(seconds=25).press("1")  # the message, sent
        self._transcript(call, "    client ◂ ")
        callout = session.scalar(
            select(Callout)
            .join(Ticket, Callout.ticket_id == Ticket.id)
            .where(Ticket.number == ticket)
            .order_by(Callout.id.desc())
        )
        assert callout is not None, "the IVR opened no callout"
        self.callouts.append(callout.id)
        self._outbox_since(callout.opened_at - timedelta(seconds=1))
        return callout

    def ticket_breaches(self, ticket: Ticket) -> None:
        """The sweeper finds the ticket's own takeover deadline passed: the night is paged without a
        call, and the technician takes it over by SMS."""
        sweep()
        callout = session.scalar(
            select(Callout).where(Callout.ticket_id == ticket.id).order_by(Callout.id.desc())
        )
        assert callout is not None, "the ticket's breach opened no callout"
        self.say(f"requête {ticket.number} : personne ne l'a prise en charge dans son délai")
        self.callouts.append(callout.id)
        self._outbox_since(callout.opened_at - timedelta(seconds=1))
        person = callout.pages[0].person
        self.replies_by_sms(person, f"OK {ticket.number}")

    def technician_answers(self, callout: Callout, keys: str) -> None:
        page = self._last_call(callout)
        person = page.person
        clock.advance(timedelta(minutes=2))
        self.say(f"{person.name} décroche l'appel d'astreinte")
        url = session.scalar(
            select(OutgoingMessage.body).where(
                OutgoingMessage.carrier_id == page.twilio_sid, OutgoingMessage.state != MessageState.BUNDLED
            )
        )
        assert url, "the page call is not in the outbox"
        call = self.phone.answer(
            url, call_sid=page.twilio_sid, to=person.phone, status_callback=absolute_url("paging.status")
        )
        for key in keys:
            call.press(key)
        if not call.ended:
            call.silence()
        if not call.ended:
            call.hangup()
        self._transcript(call, f"    {person.name.split()[0].lower()} ◂ ")
        self._outbox_since(clock.now() - timedelta(minutes=1))

    def nobody_answers_until(self, callout: Callout, role: str) -> Person:
        """Minute by minute: every page call rings out; stop when `role` has been paged."""
        target = self.org.escalation[role]
        answered: set[str] = set()
        while True:
            clock.advance(timedelta(minutes=1))
            before = clock.now() - timedelta(minutes=1)
            sweep()
            self._outbox_since(before)
            for page in session.scalars(
                select(Page).where(Page.callout_id == callout.id, Page.channel == Channel.VOICE)
            ):
                if page.twilio_sid and page.twilio_sid not in answered and page.person_id != target:
                    answered.add(page.twilio_sid)
                    status = "busy" if len(answered) % 2 == 0 else "no-answer"
                    self.phone.send(
                        absolute_url("paging.status"),
                        {
                            "CallSid": page.twilio_sid,
                            "CallStatus": status,
                            "To": page.to_number,
                            "From": self.org.support_number,
                            "Direction": "outbound-api",
                        },
                    )
                    self.say(f"    {page.person.name} ne répond pas ({label('page_status', status)})")
            if any(p.person_id == target for p in session.get(Callout, callout.id).pages):  # type: ignore[union-attr]
                person = session.get(Person, target)
                assert person is not None
                return person

    def replies_by_sms(self, person: Person, body: str) -> None:
        clock.advance(timedelta(minutes=2))
        self.say(f"{person.name} répond par SMS : « {body} »")
        status, answer = self.phone.send(
            "/sms/incoming",
            {
                "MessageSid": new_local_sid("SM"),  # unique: a reused SID is a Twilio retry, ignored
                "From": person.phone,
                "To": self.org.support_number,
                "Body": body,
            },
        )
        assert status == 200, answer
        self._outbox_since(clock.now() - timedelta(seconds=1))
        text = answer.split("<Message>")[-1].split("</Message>")[0] if "<Message>" in answer else ""
        if text:
            self.say(f"    réponse ▸ {person.name} : {text}")

    # --- what happened -----------------------------------------------------------------------------

    def _last_call(self, callout: Callout) -> Page:
        page = session.scalar(
            select(Page)
            .where(Page.callout_id == callout.id, Page.channel == Channel.VOICE, Page.twilio_sid.is_not(None))
            .order_by(Page.id.desc())
        )
        assert page is not None, "nobody was called"
        return page

    def _transcript(self, call: Call, prefix: str) -> None:
        for line in call.said:
            self.echo(prefix + line)

    def _outbox_since(self, since: datetime) -> None:
        names = {p.phone: p.name for p in session.scalars(select(Person))}
        for msg in Network(since).sent():
            if msg.id in self.shown:
                continue
            self.shown.add(msg.id)
            who = names.get(msg.to_address, msg.to_address)
            if msg.channel is Channel.EMAIL:
                self.echo(f"{self.local(msg.created_at)}  e-mail ▸ {who} : {msg.subject}")
            elif msg.channel is Channel.SMS:
                self.echo(f"{self.local(msg.created_at)}  SMS ▸ {who} : {msg.body}")
            else:
                self.echo(f"{self.local(msg.created_at)}  appel ▸ {who}")

    def timeline(self) -> None:
        self.echo("\n=== la nuit, requête par requête (heure de Paris)")
        for callout_id in self.callouts:
            callout = session.get(Callout, callout_id, populate_existing=True)
            assert callout is not None
            ticket = callout.ticket
            self.echo(f"\nrequête {ticket.number} · {ticket.client.name} · {ticket.subject}")
            for event in session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id, TicketEvent.at >= self.start - timedelta(hours=5))
                .order_by(TicketEvent.at, TicketEvent.id)
            ):
                if (event.data or {}).get("callout", callout.id) != callout.id:
                    continue
                self.echo(
                    f"  {self.local(event.at)}  {label('event', event.kind):<16} "
                    f"{tell(event, 'fr', self.org.timezone)}"
                )
            taker = callout.taker.name if callout.taker else "personne"
            via = label("via", callout.taken_over_via.value) if callout.taken_over_via else "-"
            waited = int(((callout.taken_over_at or clock.now()) - callout.opened_at).total_seconds() // 60)
            self.echo(
                f"  ⇒ message {self.local(callout.opened_at)}, échéance {self.local(callout.due_at)}, "
                f"pris en charge par {taker} (par {via}) en {waited} min, "
                f"délai {'dépassé' if callout.breached else 'tenu'}, "
                + (
                    f"escalade niveau {callout.escalation_level}"
                    if callout.escalation_level
                    else "prise en charge sans escalade"
                )
            )


def free_evening(now: datetime, tz: Any) -> datetime:
    """23:05 local on last night's evening, or the night before when a demo already played it."""
    local = now.astimezone(tz)
    day = local.date() if local.time() >= time(23, 5) else local.date() - timedelta(days=1)
    while True:
        evening = datetime.combine(day, time(23, 5), tzinfo=tz)
        taken = session.scalar(
            select(Callout.id).where(
                Callout.opened_at >= evening - timedelta(hours=1),
                Callout.opened_at < evening + timedelta(hours=6),
            )
        )
        if taken is None:
            return evening
        day -= timedelta(days=1)


def play(app: Flask, evening: datetime | None = None, echo: Any = click.echo) -> Night:
    """The whole night; returns the script (its callouts) once the timeline is printed."""
    org = current_org()
    evening = evening or free_evening(clock.now(), org.timezone)
    clock.set(evening - timedelta(hours=4, minutes=25))  # 18:40: the desk opens a ticket before leaving
    first_ticket = create_ticket(
        client="C1001",
        priority="high",
        service="SDSL-4471",
        actor="service desk",
        subject="Coupure totale du lien SDSL",
    )
    clock.set(evening)
    night = Night(app, evening, echo)
    echo(f"=== astreinte, nuit du {evening:%d/%m/%Y} (hors ligne : Twilio = boîte d'envoi locale)")
    night.echo(
        f"{night.local(first_ticket.opened_at)}  requête {first_ticket.number} ouverte par le service desk"
    )
    clock.set(evening - timedelta(hours=3, minutes=54))  # 19:11: nobody took it over within its ½ h
    night.ticket_breaches(first_ticket)
    clock.set(evening)
    first = night.client_calls(ISABELLE, first_ticket.number, "4821")
    night.technician_answers(first, "1")
    clock.set(evening + timedelta(hours=1, minutes=15))  # 00:20: the link is back up
    taker = session.get(Callout, first.id, populate_existing=True)
    name = taker.taker.name if taker and taker.taker else "le technicien"
    change_ticket(
        first_ticket, TicketChange(status=TicketStatus.RESOLVED, note="lien SDSL rétabli"), actor=name
    )
    night.say(
        f"requête {first_ticket.number} résolue par {name} : le client est prévenu, 48 h pour contester"
    )
    night._outbox_since(clock.now() - timedelta(seconds=1))

    clock.set(evening + timedelta(hours=2, minutes=50))  # 01:55: the night shift opens a ticket online
    ticket = create_ticket(
        client="C1001",
        priority="high",
        service="SDSL-4471",
        actor="portail client",
        subject="Lien SDSL instable, terminal de paiement hors ligne",
    )
    night.say(f"requête {ticket.number} ouverte sur le portail client")
    clock.advance(timedelta(minutes=15))
    second = night.client_calls(NIGHT_CALLER, ticket.number, "4821")
    supervisor = night.nobody_answers_until(second, "supervisor")
    night.replies_by_sms(supervisor, f"OK {ticket.number}")
    night.timeline()
    night.echo("\n=== ce qui est parti, personne par personne (canal, transporteur, texte)")
    for line in Network().by_person():
        night.echo("  " + line)
    return night


@click.command(
    "demo",
    help="Play a scripted night offline (two calls: one taken over at the first page, "
    "one escalated to the supervisor) and print its timeline. Runs on a throw-away database "
    "holding examples/org.yaml: the live database, the queue and Twilio are never touched.",
)
@click.option(
    "--night", "night_of", default=None, help="The evening it starts (YYYY-MM-DD); default: last night."
)
@click.option(
    "--keep",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Leave the night in this SQLite file (replaced if it exists), to browse it with the dashboard.",
)
@with_appcontext
def demo_command(night_of: str | None, keep: Path | None) -> None:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    evening_day = None
    if night_of:
        try:
            evening_day = datetime.strptime(night_of, "%Y-%m-%d").date()
        except ValueError:
            raise click.BadParameter("expected YYYY-MM-DD", param_hint="--night") from None
    with throwaway(app, example_organisation(), keep=keep) as path:
        try:
            evening = None
            if evening_day:
                evening = datetime.combine(evening_day, time(23, 5), tzinfo=current_org().timezone)
            play(app, evening)
        finally:
            clock.release()
    if keep:
        click.echo(f"\nla nuit est gardée dans {path} ; pour la parcourir dans le tableau de bord :")
        click.echo(f"  export DATABASE_URL=sqlite:///{path} RECORDINGS_DIR={recordings_beside(path)}")
        click.echo("  astreinte user add agnes --role agent && astreinte serve --port 5001")
    else:
        click.echo("\nbase jetable supprimée (--keep FICHIER la garde pour le tableau de bord)")
