"""Rows of a night at the front desk, made directly in the database: calls, voicemails, callouts with
their pages and takeovers. Times are Paris local strings ("2026-11-24 23:05") or aware instants."""

from __future__ import annotations

import itertools
import math
import re
import struct
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from typing import Any

from flask import current_app
from sqlalchemy import select

from dashboard.auth import hash_password
from models import (
    Call,
    Callout,
    CallOutcome,
    CalloutState,
    Channel,
    Client,
    Page,
    Service,
    Ticket,
    TicketEvent,
    User,
    Voicemail,
    session,
)
from org.load import current_org
from tickets.timeline import tell
from words.ui import label

from .conftest import paris

_seq = itertools.count(1)
CALLER = "+33611223344"  # Isabelle Dupont's mobile


def at(when: datetime | str) -> datetime:
    return paris(when) if isinstance(when, str) else when


def ticket(number: str) -> Ticket:
    row = session.scalar(select(Ticket).where(Ticket.number == number))
    assert row is not None, f"no ticket {number}: load the org file first"
    return row


def extra_ticket(
    number: str = "104260",
    priority: str = "medium",
    subject: str = "Débit dégradé",
    opened: datetime | str = "2026-11-25 03:20",
) -> Ticket:
    """A second covered ticket of Boulangerie Dupont."""
    client = session.scalar(select(Client).where(Client.account == "C1001"))
    service = session.scalar(select(Service).where(Service.ref == "SDSL-4471"))
    row = Ticket(
        number=number,
        client=client,
        service=service,
        priority=priority,
        subject=subject,
        opened_at=at(opened),
    )
    row.events.append(TicketEvent(kind="opened", at=at(opened), actor="desk", text=subject))
    session.add(row)
    session.commit()
    return row


def call(
    when: datetime | str,
    outcome: CallOutcome = CallOutcome.VOICEMAIL,
    *,
    reason: str | None = None,
    number: str | None = None,
    caller: str = CALLER,
    duration: int = 75,
    after_hours: bool = True,
    sid: str | None = None,
) -> Call:
    started = at(when)
    row = Call(
        sid=sid or f"CA{next(_seq):032d}",
        from_number=caller,
        to_number="+33272646172",
        started_at=started,
        ended_at=started + timedelta(seconds=duration),
        duration=duration,
        status="completed",
        after_hours=after_hours,
        outcome=outcome,
        reason=reason,
        step="done",
        entered_ticket=number,
    )
    if number:
        found = session.scalar(select(Ticket).where(Ticket.number == number))
        if found is not None:
            row.ticket, row.client = found, found.client
    session.add(row)
    session.flush()
    if row.ticket is not None:
        row.ticket.events.append(
            TicketEvent(
                kind="call", at=started, actor=caller, text=f"appel de {caller}", data={"call": row.id}
            )
        )
    session.commit()
    return row


def write_wav(recording_sid: str, seconds: float = 3.0) -> None:
    """A short tone as the recording's local media (outbox mode)."""
    folder = current_app.config["RECORDINGS_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(rate * seconds))
    )
    with wave.open(str(folder / f"{recording_sid}.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def voicemail(the_call: Call, *, duration: int = 20, media: bool = True) -> Voicemail:
    sid = f"RE{next(_seq):032d}"
    recorded = the_call.started_at + timedelta(seconds=30)  # after the greeting, ticket and PIN
    row = Voicemail(
        call=the_call,
        ticket=the_call.ticket,
        recording_sid=sid,
        duration=duration,
        recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{sid}",
        recording_status="completed",
        callback_number=the_call.from_number,
        recorded_at=recorded,
    )
    session.add(row)
    if the_call.ticket is not None:
        the_call.ticket.events.append(
            TicketEvent(
                kind="voicemail", at=recorded, actor=the_call.from_number, text=f"message de {duration} s"
            )
        )
    session.commit()
    if media:
        write_wav(sid, seconds=min(duration, 3))
    return row


def callout(vm: Voicemail, *, takeover: timedelta = timedelta(minutes=30)) -> Callout:
    row = Callout(
        ticket=vm.ticket,
        voicemail=vm,
        state=CalloutState.PAGING,
        opened_at=vm.recorded_at,
        due_at=vm.recorded_at + takeover,
        next_step=1,
        next_action_at=vm.recorded_at,
    )
    session.add(row)
    assert vm.ticket is not None
    vm.ticket.events.append(TicketEvent(kind="callout", at=vm.recorded_at, text="astreinte alertée"))
    session.commit()
    return row


def page(
    co: Callout,
    person: str,
    channel: Channel | str,
    status: str,
    when: datetime | str,
    *,
    step: int = 0,
    error_code: str | None = None,
) -> Page:
    channel = Channel(channel)
    prefix = "SM" if channel is Channel.SMS else "CA"
    sent = at(when)
    row = Page(
        callout=co,
        person_id=person,
        channel=channel,
        step=step,
        to_number="+33612345678",
        status=status,
        twilio_sid=f"{prefix}{next(_seq):032d}",
        error_code=error_code,
        attempts=1,
        created_at=sent,
        updated_at=sent,
    )
    session.add(row)
    co.ticket.events.append(
        TicketEvent(
            kind="page",
            at=sent,
            actor=person,
            text=f"{label('channel', channel.value)} à {person} : {label('page_status', status)}",
        )
    )
    session.commit()
    return row


def take_over(co: Callout, person: str, via: Channel | str, when: datetime | str) -> Callout:
    co.state = CalloutState.TAKEN_OVER
    co.taken_over_at = at(when)
    co.taken_over_by = person
    co.taken_over_via = Channel(via)
    co.next_action_at = None
    co.ticket.events.append(
        TicketEvent(kind="takeover", at=at(when), actor=person, text=f"pris en charge par {person}")
    )
    session.commit()
    return co


def user(
    name: str = "agnes", password: str = "correct horse battery", role: str = "agent", language: str = "fr"
) -> User:
    row = User(name=name, password_hash=hash_password(password), role=role, language=language)
    session.add(row)
    session.commit()
    return row


@dataclass
class Night:
    refused_pin: Call
    answered: Call
    answered_callout: Callout
    refused_option: Call
    refused_unknown: Call
    open_call: Call
    open_callout: Callout
    forwarded: Call


def night() -> Night:
    """The night of Tue 24 to Wed 25 November 2026 (the org file must be loaded).

    Isabelle misses her PIN, then leaves a message on 104233: Alice is paged, misses the first call,
    takes over at 23:19. Cabinet Moreau (no astreinte option) is refused, a stranger keys an unknown
    ticket; at 03:30 a message on 104260 pages Bruno, still nobody at 03:45.
    """
    forwarded = call(
        "2026-11-24 17:40", CallOutcome.FORWARDED, duration=240, after_hours=False, caller="+33244556677"
    )
    refused_pin = call(
        "2026-11-24 23:02", CallOutcome.REFUSED, reason="bad_pin", number="104233", duration=50
    )
    answered = call("2026-11-24 23:05", number="104233", duration=95)
    vm = voicemail(answered, duration=30)
    first = callout(vm)
    page(first, "alice", "sms", "delivered", "2026-11-24 23:06")
    page(first, "alice", "voice", "no-answer", "2026-11-24 23:06")
    page(first, "alice", "voice", "completed", "2026-11-24 23:11", step=1)
    take_over(first, "alice", "voice", "2026-11-24 23:19")
    refused_option = call(
        "2026-11-25 01:40",
        CallOutcome.REFUSED,
        reason="no_astreinte_option",
        number="104251",
        caller="+33244556677",
        duration=40,
    )
    refused_unknown = call(
        "2026-11-25 02:10",
        CallOutcome.REFUSED,
        reason="unknown_ticket",
        number="999999",
        caller="+33699887766",
        duration=35,
    )
    extra_ticket()
    open_call = call("2026-11-25 03:30", number="104260", duration=80)
    second = callout(voicemail(open_call, duration=25))
    page(second, "bruno", "sms", "delivered", "2026-11-25 03:31")
    page(second, "bruno", "voice", "busy", "2026-11-25 03:31", error_code=None)
    page(second, "bruno", "voice", "failed", "2026-11-25 03:36", step=1, error_code="13225")
    return Night(refused_pin, answered, first, refused_option, refused_unknown, open_call, second, forwarded)


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/tickets body."""
    body = {"client": "C1001", "service": "SDSL-4471", "priority": "high", "subject": "Lien coupé"}
    body.update(overrides)
    return body


def csrf(client: Any, path: str = "/login") -> str:
    """The form token of a page, read from the HTML like a browser would."""
    import re

    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no form token on {path}"
    return found.group(1)


def login(client: Any, name: str = "agnes", password: str = "correct horse battery", **user_kw: Any) -> User:
    """Create the user and log in through the form."""
    row = user(name, password, **user_kw)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return row


def told(event: TicketEvent, lang: str = "fr") -> str:
    """What the timeline says of `event` to a reader of `lang` (the ticket page, the API)."""
    return tell(event, lang, current_org().timezone)


def visible_text(response: Any) -> str:
    """The visible text of a page, tags removed, spaces squeezed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
