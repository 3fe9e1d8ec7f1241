"""Words of the ticket side of the night: what the client is told when a ticket is resolved or closed,
the escalations of a ticket's own clocks, and how the timeline tells a change of priority or flag."""

from __future__ import annotations

from words.catalogue import CATALOGUE, register
from words.ui import EN

register(
    {
        # --- the client told of a resolution or a closure (004: 48 h to contest) --------------------
        "client.sms.resolved": {
            "fr": "votre requête {number} est résolue ({time}). Si le problème persiste, vous avez {hours} h "
            "pour contester : appelez le {support}.",
            "en": "your ticket {number} was resolved ({time}). If the problem persists, you have {hours} h "
            "to contest it: call {support}.",
        },
        "client.sms.closed": {
            "fr": "votre requête {number} est clôturée ({time}). Vous avez {hours} h pour contester cette "
            "clôture : appelez le {support}.",
            "en": "your ticket {number} was closed ({time}). You have {hours} h to contest the closure: "
            "call {support}.",
        },
        "client.email.subject.resolved": {
            "fr": "Requête {number} résolue",
            "en": "Ticket {number} resolved",
        },
        "client.email.subject.closed": {
            "fr": "Requête {number} clôturée",
            "en": "Ticket {number} closed",
        },
        # --- escalations of a ticket's own clocks -------------------------------------------------
        "sms_ticket_breach": {
            "fr": "Escalade : {ticket} {client} ({subject}) non prise en charge dans le délai. "
            "Voir le tableau de bord.",
            "en": "Escalation: ticket {ticket} {client} ({subject}) not taken over in time. See the dashboard.",
        },
        "sms_major_incident": {  # 001: a major incident is escalated at once
            "fr": "Incident majeur : {ticket} {client} ({subject}), déjà pris en charge. Voir le tableau de bord.",
            "en": "Major incident: ticket {ticket} {client} ({subject}), already taken over. See the dashboard.",
        },
        "sms_inactivity": {
            "fr": "Escalade : {ticket} {client} ({subject}) prise en charge mais sans activité depuis "
            "{hours} h. Voir le tableau de bord.",
            "en": "Escalation: ticket {ticket} {client} ({subject}) taken over but untouched for {hours} h. "
            "See the dashboard.",
        },
        # --- the timeline -------------------------------------------------------------------------
        "event.priority": {"fr": "priorité {old} → {new}", "en": "priority {old} → {new}"},
        "event.major_incident.on": {"fr": "déclarée incident majeur", "en": "flagged a major incident"},
        "event.major_incident.off": {
            "fr": "n'est plus un incident majeur",
            "en": "no longer a major incident",
        },
        "event.callout.page_on_open": {
            "fr": "ouverte en astreinte : technicien alerté sans appel, prise en charge attendue avant {time}",
            "en": "opened during on-call hours: technician paged without a call, takeover expected by {time}",
        },
        "event.callout.major_incident": {
            "fr": "incident majeur en astreinte : technicien alerté sans appel, prise en charge attendue "
            "avant {time}",
            "en": "major incident during on-call hours: technician paged without a call, takeover expected "
            "by {time}",
        },
        "event.callout.breach": {
            "fr": "délai de prise en charge de la requête dépassé : astreinte alertée",
            "en": "the ticket's takeover deadline was missed: on-call paged",
        },
        "event.breach.ticket_takeover": {
            "fr": "prise en charge de la requête hors délai ({minutes} min)",
            "en": "ticket not taken over in time ({minutes} min)",
        },
        "event.escalation.ticket_takeover": {
            "fr": "escalade niveau {level} : {name} prévenu(e) par SMS (prise en charge hors délai)",
            "en": "escalation level {level}: {name} texted (takeover missed)",
        },
        "event.escalation.major_incident": {
            "fr": "escalade niveau {level} : {name} prévenu(e) par SMS (incident majeur)",
            "en": "escalation level {level}: {name} texted (major incident)",
        },
        "event.escalation.inactivity": {
            "fr": "escalade niveau {level} : {name} prévenu(e) par SMS (aucune activité depuis {hours} h)",
            "en": "escalation level {level}: {name} texted (no activity for {hours} h)",
        },
        "event.client_notice": {
            "fr": "client prévenu ({status}) : {how}",
            "en": "client told ({status}): {how}",
        },
        "event.client_notice.sms": {"fr": "SMS au {number}", "en": "SMS to {number}"},
        "event.client_notice.sms_failed": {
            "fr": "SMS au {number} en échec {code}",
            "en": "SMS to {number} failed {code}",
        },
        "event.client_notice.email": {"fr": "e-mail à {address}", "en": "e-mail to {address}"},
        "event.client_notice.no_email": {
            "fr": "pas d'e-mail (envoi d'e-mails non configuré)",
            "en": "no e-mail (e-mail sending not configured)",
        },
        "event.client_notice.nobody": {
            "fr": "aucun mobile ni adresse connus",
            "en": "no known mobile nor address",
        },
    }
)

# The dashboard's words for tickets (keyed by their French text, as words/ui.py's).
TICKETS_EN: dict[str, str] = {
    "Requêtes": "Tickets",
    "Nouvelle requête": "New ticket",
    "Statut": "Status",
    "Priorité": "Priority",
    "Objet": "Subject",
    "toutes": "all",
    "tous": "all",
    "hors délai": "overdue",
    "cette nuit": "tonight",
    "Filtrer": "Filter",
    "Tout afficher": "Show all",
    "Délais comptés depuis l'ouverture de chaque requête, comme sur sa page.": "Deadlines counted from each "
    "ticket's opening, as on its page.",
    "fait en {span}": "done in {span}",
    "dépassé de {span}": "overdue by {span}",
    "attente client": "client standby",
    "reste {span}": "{span} left",
    "incident majeur": "major incident",
    "Incident majeur": "Major incident",
    "Aucune requête ne correspond.": "No ticket matches.",
    "Les {n} plus récentes : affinez les filtres.": "The {n} most recent: narrow the filters.",
    "Ouvrir la requête": "Open the ticket",
    "Numéro (facultatif : celui de l'outil de tickets)": "Number (optional: the ticketing tool's)",
    "Incident majeur (alerte l'astreinte et le superviseur la nuit)": "Major incident (pages on-call and the "
    "supervisor at night)",
    "alerte l'astreinte dès l'ouverture": "pages on-call as soon as opened",
    "Enregistrer": "Save",
    "Requête refusée : {reason}": "Ticket refused: {reason}",
    "Requête {number} ouverte.": "Ticket {number} opened.",
    "Modification refusée : {reason}": "Change refused: {reason}",
    "Requête modifiée.": "Ticket changed.",
    "Rien à changer.": "Nothing to change.",
    "Alerte sans appel de {at}": "Alert without a call at {at}",
    "échéance {at}, {span} après l'alerte": "due {at}, {span} after the alert",
    "délai de la requête dépassé à {at}": "the ticket's deadline was missed at {at}",
    "Chaque alerte d'astreinte a son propre délai, compté depuis le message (ou l'alerte sans appel) : voir "
    "« Astreintes ». La première prise en charge arrête aussi le délai de la requête.": "Each on-call alert has "
    "its own deadline, counted from the message (or the alert without a call): see “Callouts”. The first "
    "takeover stops the ticket's deadline too.",
    "Indisponibilité par client": "Unavailability per client",
    "Prise en charge à {at} par {who} : {ticket_span} après l'ouverture de la requête (délai de la requête), "
    "{callout_span} après {origin} de {start} (délai d'astreinte).": "Taken over at {at} by {who}: {ticket_span} "
    "after the ticket was opened (the ticket's deadline), {callout_span} after {origin} of {start} (the "
    "on-call deadline).",
    "le message": "the message",
    "alerte sans appel à": "alert without a call at",
    "astreinte hors délai": "on-call deadline missed",
    "l'alerte": "the alert",
    "Indisponibilité": "Unavailability",
    "% du mois": "% of the month",
    "Prises en charge hors délai": "Late takeovers",
    "Résolutions hors délai": "Late resolutions",
    "Du moment où la requête est ouverte à sa résolution, sans l'attente client ; les requêtes simultanées "
    "d'un client comptent une fois.": "From the ticket's opening to its resolution, client standby left "
    "out; a client's simultaneous tickets count once.",
}
for _fr in [k for k in TICKETS_EN if f"ui:{k}" in CATALOGUE]:
    del TICKETS_EN[_fr]  # already said by words/ui.py
EN.update(TICKETS_EN)
register({f"ui:{fr}": {"fr": fr, "en": en} for fr, en in TICKETS_EN.items()})
register(
    {
        "label.origin.page_on_open": {
            "fr": "priorité qui alerte dès l'ouverture",
            "en": "priority that pages on open",
        },
        "label.origin.major_incident": {"fr": "incident majeur", "en": "major incident"},
        "label.origin.breach": {"fr": "délai de prise en charge dépassé", "en": "takeover deadline missed"},
        "label.event.priority": {"fr": "priorité", "en": "priority"},
        "label.event.major_incident": {"fr": "incident majeur", "en": "major incident"},
        "label.event.client_notice": {"fr": "client prévenu", "en": "client told"},
    }
)
