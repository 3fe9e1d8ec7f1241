"""Words of the ticket side of the night: what the client is told when a ticket is resolved or closed,
the escalations of a ticket's own clocks, and how the timeline tells a change of priority or flag."""

from __future__ import annotations

from words.catalogue import register

register(
    {
        # --- the client told of a resolution or a closure (004: 48 h to contest) --------------------
        "client.sms.resolved": {
            "fr": "Votre requête {number} est résolue ({time}). Si le problème persiste, vous avez {hours} h "
            "pour contester : appelez le {support}.",
            "en": "Your ticket {number} was resolved ({time}). If the problem persists, you have {hours} h "
            "to contest it: call {support}.",
        },
        "client.sms.closed": {
            "fr": "Votre requête {number} est clôturée ({time}). Vous avez {hours} h pour contester cette "
            "clôture : appelez le {support}.",
            "en": "Your ticket {number} was closed ({time}). You have {hours} h to contest the closure: "
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
