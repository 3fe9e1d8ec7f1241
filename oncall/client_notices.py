"""The client told that a ticket was resolved or closed, with the time left to contest it (004: "le
Client peut contester la clôture de l'incident dans un délai de 48 heures"; 000: a notification is
sent once resolved). By SMS to the number that called about the ticket, else to the client's mobile
contacts; by e-mail to the contacts' addresses when an e-mail sender is plugged in.

E-mail: this room knows no SMTP. When the application registers a sender under
`app.extensions[EMAIL_SENDER]` (an object with `send_email(to, subject, body)`), the notice goes out by
e-mail too; until then the timeline says no e-mail was sent.
"""

from __future__ import annotations

import logging
from typing import Protocol

from flask import current_app
from sqlalchemy import select

import clock
import tasks
from models import Call, Ticket, TicketEvent, TicketStatus, session
from oncall import sending
from org.load import current_org
from org.orgfile import Org
from org.phones import mobile_number, readable_phone
from tickets.timeline import add_event
from words.caller import caller_sms
from words.catalogue import text
from words.pages import gsm7

log = logging.getLogger(__name__)

TELL_CLIENT_JOB = "tell_client"
EMAIL_SENDER = "email_sender"  # the hook: app.extensions[EMAIL_SENDER].send_email(to, subject, body)


class EmailSender(Protocol):
    def send_email(self, to: str, subject: str, body: str) -> str: ...


def client_numbers(org: Org, ticket: Ticket) -> list[str]:
    """Where the SMS goes: the mobile that last called about the ticket, else the client's mobile
    contacts (E.164, each once)."""
    calls = session.scalars(
        select(Call).where(Call.ticket_id == ticket.id).order_by(Call.started_at.desc(), Call.id.desc())
    )
    for call in calls:
        number = mobile_number(call.callback_number, call.from_number, region=org.region)
        if number:
            return [number]
    found: list[str] = []
    for contact in ticket.client.contacts:
        number = mobile_number(contact.phone, region=org.region)
        if number and number not in found:
            found.append(number)
    return found


def client_addresses(ticket: Ticket) -> list[str]:
    return list(dict.fromkeys(c.email for c in ticket.client.contacts if c.email))


def notice(org: Org, ticket: Ticket, status: TicketStatus, lang: str = "fr") -> tuple[str, str]:
    """The SMS text and the e-mail subject of the notice."""
    at = clock.now().astimezone(org.timezone)
    values = {
        "number": ticket.number,
        "time": f"{at:%d/%m %H:%M}",
        "hours": int(org.contest_window.total_seconds() // 3600),
        "support": readable_phone(org.support_number, org.region) or org.support_number,
    }
    return (
        caller_sms(org, f"client.sms.{status.value}", lang, **values),  # the provider's name, the portal
        text(f"client.email.subject.{status.value}", lang, **values),
    )


@tasks.job(TELL_CLIENT_JOB)
def tell_client(ticket_id: int, status_event_id: int) -> None:
    """Tell the client of the resolution or closure recorded by the status event `status_event_id`
    (once: a second run finds the notice on the timeline)."""
    ticket = session.get(Ticket, ticket_id)
    event = session.get(TicketEvent, status_event_id)
    if ticket is None or event is None or event.ticket_id != ticket_id:
        return
    status = TicketStatus((event.data or {}).get("to", ""))
    if status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or ticket.status is not status:
        return  # reopened meanwhile: nothing to tell
    told = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "client_notice")
    )
    if any((e.data or {}).get("event") == status_event_id for e in told):
        return
    org = current_org()
    body, subject = notice(org, ticket, status)
    facts: dict[str, object] = {"event": status_event_id, "status": status.value}
    sms: list[dict[str, object]] = []
    for number in client_numbers(org, ticket):  # once each; the outbox tries a failure again
        row = sending.text_once(
            "client_notice", number, gsm7(body), f"client_notice:{status_event_id}:{number}"
        )
        sms.append({"to": number, **sending.told(row)})
    facts["sms"] = sms
    mailer: EmailSender | None = current_app.extensions.get(EMAIL_SENDER)
    addresses = client_addresses(ticket)
    if mailer is None:
        facts["email"] = "not_configured" if addresses else "none"
    else:
        sent = []
        for address in addresses:
            try:
                mailer.send_email(address, subject, body)
                sent.append(address)
            except Exception as exc:  # noqa: BLE001 - an e-mail failure must not lose the SMS's record
                log.warning("e-mail notice of ticket %s failed: %s", ticket.number, exc)
        facts["email"] = sent
    add_event(ticket, "client_notice", data=facts)
    session.commit()
