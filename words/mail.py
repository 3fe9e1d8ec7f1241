"""What an e-mail page says (the same facts and the same take-over link as the page SMS, with room to
spell them out), what the outbox tells a supervisor when a carrier is set aside, and the one key of a
page call through the second carrier."""

from __future__ import annotations

from datetime import datetime

from words.catalogue import register, text
from words.pages import Alert, deadline

register(
    {
        "mail_page_subject": {
            "fr": "Astreinte {ticket} {client} : {subject}",
            "en": "On-call {ticket} {client}: {subject}",
        },
        "mail_page_subject_bundle": {"fr": "Astreinte : {count} alertes", "en": "On-call: {count} alerts"},
        "mail_page_item": {
            "fr": "Requête {ticket} - {client} (service {service}, priorité {priority})\n"
            "Objet : {subject}\nMessage laissé à {time}. {deadline}.\n{callback}",
            "en": "Ticket {ticket} - {client} (service {service}, priority {priority})\n"
            "Subject: {subject}\nMessage left at {time}. {deadline}.\n{callback}",
        },
        # never the client's number (a mail app makes it a link that shows the technician's own number)
        "mail_page_callback": {
            "fr": "Rappeler le client : par le lien ci-dessous, « Appeler le client via l'astreinte » "
            "(il verra le numéro du support).",
            "en": 'Call the client back: through the link below, "Call the client through astreinte" '
            "(they see the support number).",
        },
        "mail_page_no_callback": {
            "fr": "Aucun numéro de rappel n'a été laissé.",
            "en": "No callback number was left.",
        },
        "mail_page_take_over": {
            "fr": "Écouter le message, prendre en charge, rappeler le client : {link}\nOu par SMS : OK {ticket}",
            "en": "Hear the message, take over, call the client back: {link}\nOr by SMS: OK {ticket}",
        },
        "outbox.carrier_down_subject": {
            "fr": "Astreinte : l'opérateur {carrier} est en panne",
            "en": "On-call: the carrier {carrier} is failing",
        },
        "outbox.carrier_down": {
            "fr": "Astreinte : l'opérateur {carrier} échoue ({error}). Les alertes passent par les autres "
            "moyens tant qu'il ne répond pas.",
            "en": "On-call: the carrier {carrier} is failing ({error}). Alerts go through the other ways "
            "until it answers again.",
        },
        "page_press_1": {"fr": "Pour prendre en charge, tapez 1.", "en": "To take over, press 1."},
        "health.carrier_set_aside": {
            "fr": "L'opérateur {carrier} échoue depuis {time} : mis de côté, les alertes passent par les "
            "autres moyens.",
            "en": "The carrier {carrier} has been failing since {time}: set aside, alerts go through the "
            "other ways.",
        },
    }
)


def page_email(lang: str, alerts: list[Alert], link: str, now: datetime) -> tuple[str, str]:
    """(subject, body) of an e-mail page: every alert in full, the take-over link."""
    first = alerts[0]
    if len(alerts) == 1:
        subject = text(
            "mail_page_subject", lang, ticket=first.ticket, client=first.client, subject=first.subject
        )
    else:
        subject = text("mail_page_subject_bundle", lang, count=len(alerts))
    items = [
        text(
            "mail_page_item",
            lang,
            ticket=a.ticket,
            client=a.client,
            service=a.service,
            priority=a.priority,
            subject=a.subject or "-",
            time=f"{a.message_at:%H:%M}",
            deadline=deadline(lang, a, now).capitalize(),
            callback=text("mail_page_callback" if a.has_callback else "mail_page_no_callback", lang),
        )
        for a in alerts
    ]
    body = "\n\n".join([*items, text("mail_page_take_over", lang, link=link, ticket=first.ticket)])
    return " ".join(subject.split())[:200], body + "\n"
