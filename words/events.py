"""How a ticket's timeline tells each event, in French and English. The rooms that write an event store
its kind and the facts behind it (`data`); `tickets.timeline.tell` picks the sentence and fills it in
the reader's language when the event is read (dashboard, API, CSV, the demo)."""

from __future__ import annotations

from words.catalogue import register

register(
    {
        "event.call": {"fr": "appel d'astreinte depuis {number}", "en": "on-call call from {number}"},
        "event.call.refused": {
            "fr": "appel refusé ({reason}) depuis {number}",
            "en": "call refused ({reason}) from {number}",
        },
        "event.voicemail": {
            "fr": "message vocal de {seconds} s, rappel au {callback}",
            "en": "voicemail of {seconds} s, call back on {callback}",
        },
        "event.withheld": {"fr": "numéro masqué", "en": "withheld number"},
        "event.callout": {
            "fr": "astreinte alertée, prise en charge attendue avant {time}",
            "en": "on-call paged, takeover expected by {time}",
        },
        "event.callout.stopped": {
            "fr": "alerte d'astreinte arrêtée : {reason}",
            "en": "on-call paging stopped: {reason}",
        },
        "event.callout.ticket": {"fr": "requête {status}", "en": "ticket {status}"},
        "event.decline": {"fr": "{name} a refusé l'alerte", "en": "{name} declined the page"},
        "event.breach": {
            "fr": "Délai de prise en charge dépassé ({minutes} min)",
            "en": "Takeover deadline missed ({minutes} min)",
        },
        "event.gap": {
            "fr": "Personne pour le rôle « {role} » : étape suivante immédiatement",
            "en": "Nobody in the role “{role}”: next step at once",
        },
        "event.page.declined": {"fr": "{name} a refusé : étape suivante", "en": "{name} declined: next step"},
        "event.escalation": {
            "fr": "Escalade niveau {level} : {name} ({role})",
            "en": "Escalation level {level}: {name} ({role})",
        },
        "event.page.joined": {
            "fr": "Appel en cours vers {name} : alerte ajoutée",
            "en": "Call in progress to {name}: alert added",
        },
        "event.page.sms": {"fr": "SMS envoyé à {name}", "en": "SMS sent to {name}"},
        "event.page.voice": {"fr": "Appel vers {name}", "en": "Call to {name}"},
        "event.page.bundled": {
            "fr": " (groupé avec {count} autre(s))",
            "en": " (bundled with {count} other(s))",
        },
        "event.page_error.retry": {
            "fr": "{channel} vers {name} : échec temporaire{error}, nouvel essai",
            "en": "{channel} to {name}: temporary failure{error}, trying again",
        },
        "event.page_error": {
            "fr": "{channel} vers {name} : échec{error}",
            "en": "{channel} to {name}: failed{error}",
        },
        "event.page_failed": {
            "fr": "{channel} vers {name} : {status}",
            "en": "{channel} to {name}: {status}",
        },
        "event.error_code": {"fr": " ({error})", "en": " ({error})"},
        "event.takeover": {
            "fr": "Pris en charge par {name} par {via} en {minutes} min",
            "en": "Taken over by {name} by {via} in {minutes} min",
        },
        "event.late": {"fr": " (délai dépassé)", "en": " (late)"},
        "event.caller_sms": {"fr": "SMS au client : « {body} »", "en": "SMS to the caller: “{body}”"},
        "event.caller_sms.failed": {
            "fr": "SMS au client : échec ({code})",
            "en": "SMS to the caller failed ({code})",
        },
        "event.caller_sms.not_mobile": {
            "fr": "Pas de SMS au client : le numéro de rappel n'est pas un mobile",
            "en": "No SMS to the caller: the callback number is not a mobile",
        },
        "event.network": {"fr": "réseau", "en": "network"},
        "event.breach.resolution": {
            "fr": "Délai de résolution dépassé ({hours} h)",
            "en": "Resolution deadline missed ({hours} h)",
        },
        "event.escalation.resolution": {
            "fr": "Escalade niveau {level} : {name} (résolution non tenue)",
            "en": "Escalation level {level}: {name} (resolution missed)",
        },
        "event.escalation_request.client": {
            "fr": "Escalade demandée par le client",
            "en": "Escalation asked for by the client",
        },
        "event.escalation_request.major": {
            "fr": "Incident majeur : escalade immédiate",
            "en": "Major incident: immediate escalation",
        },
        "event.page.repeat": {"fr": "Relance : {names}", "en": "Paged again: {names}"},
        "event.caller_sms.breach_failed": {
            "fr": "SMS au client (délai dépassé) : échec ({code})",
            "en": "SMS to the caller (deadline missed) failed ({code})",
        },
        "event.contest": {
            "fr": "Requête rouverte : le client conteste la résolution par un message d'astreinte",
            "en": "Ticket reopened: the client contests the resolution with an on-call message",
        },
        "event.status": {"fr": "{old} → {new}", "en": "{old} → {new}"},
        "event.status.note": {"fr": "{old} → {new} : {note}", "en": "{old} → {new}: {note}"},
    }
)
