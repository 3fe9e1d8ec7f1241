"""Live connect in words: the offer to an urgent caller, what they hear while we look for the
technician, what the technician hears before taking the call (who calls, and why), and the timeline."""

from __future__ import annotations

from words.catalogue import register

register(
    {
        # --- the caller ---
        "live.offer": {  # right after the PIN, on a ticket of a priority in `astreinte.live_connect`
            "fr": "Pour parler maintenant au technicien d'astreinte, tapez 1. "
            "Pour laisser un message, restez en ligne.",
            "en": "To talk to the on-call technician now, press 1. To leave a message, stay on the line.",
        },
        "live.calling": {
            "fr": "Nous appelons le technicien d'astreinte. Restez en ligne.",
            "en": "We are calling the on-call technician. Please stay on the line.",
        },
        "live.calling_next": {
            "fr": "Le technicien ne répond pas. Nous appelons son renfort.",
            "en": "The technician is not answering. We are calling the backup.",
        },
        "live.recorded": {
            "fr": "Cette conversation sera enregistrée et conservée {days} jours pour traiter votre requête.",
            "en": "This conversation will be recorded and kept {days} days to handle your ticket.",
        },
        "live.nobody": {
            "fr": "Aucun technicien n'a pu prendre votre appel. Laissez-nous un message : "
            "il est transmis tout de suite au technicien d'astreinte.",
            "en": "No technician could take your call. Leave us a message: "
            "it goes straight to the on-call technician.",
        },
        "live.goodbye": {"fr": "Merci de votre appel. Au revoir.", "en": "Thank you for calling. Goodbye."},
        # --- the technician, before the two are put through ---
        "live.whisper": {
            "fr": "Astreinte {name} : un client demande à vous parler maintenant. {client}, "
            "requête {digits}, priorité {priority}.",
            "en": "{name} on-call: a client asks to talk to you now. {client}, ticket {digits}, "
            "priority {priority}.",
        },
        "live.whisper.unnamed": {
            "fr": "Astreinte : un client demande à vous parler maintenant. {client}, "
            "requête {digits}, priorité {priority}.",
            "en": "On-call: a client asks to talk to you now. {client}, ticket {digits}, priority {priority}.",
        },
        "live.speaks_english": {"fr": "Le client parle anglais.", "en": "The caller speaks English."},
        "live.speaks_french": {"fr": "Le client parle français.", "en": "The caller speaks French."},
        "live.whisper_recorded": {
            "fr": "La conversation sera enregistrée.",
            "en": "The conversation will be recorded.",
        },
        "live.accept": {
            "fr": "Pour prendre l'appel, tapez 1. Sinon, raccrochez.",
            "en": "To take the call, press 1. Otherwise, hang up.",
        },
        "live.no_key": {
            "fr": "Sans touche 1, l'appel n'est pas pris. Au revoir.",
            "en": "Without the 1, the call is not taken. Goodbye.",
        },
        "live.put_through": {
            "fr": "Vous avez pris en charge la requête {digits}. Vous êtes en relation avec le client.",
            "en": "You took over ticket {digits}. You are now talking to the client.",
        },
        "live.too_late": {
            "fr": "Trop tard : le client n'est plus en ligne. Son alerte suit son cours. Au revoir.",
            "en": "Too late: the client is no longer on the line. Their alert goes on. Goodbye.",
        },
        "live.taken_by": {
            "fr": "{taker} a déjà pris en charge cette requête. Au revoir.",
            "en": "{taker} already took over this ticket. Goodbye.",
        },
        # --- calling the client back through astreinte ---
        "callback.connecting": {
            "fr": "Requête {ticket} : nous appelons le client, qui verra le numéro du support.",
            "en": "Ticket {ticket}: we are calling the client, who will see the support number.",
        },
        "callback.unavailable": {
            "fr": "Cette alerte n'a plus de client à rappeler. Au revoir.",
            "en": "This alert has no client to call back any more. Goodbye.",
        },
        "callback.take_over_now": {
            "fr": "Pour prendre en charge la requête {ticket}, tapez 1.",
            "en": "To take over ticket {ticket}, press 1.",
        },
        "callback.already": {
            "fr": "{name} a déjà pris en charge cette requête.",
            "en": "{name} already took over this ticket.",
        },
        "callback.goodbye": {"fr": "Au revoir.", "en": "Goodbye."},
        "web_call_through": {
            "fr": "Appeler le client via l'astreinte",
            "en": "Call the client through astreinte",
        },
        "web_calling_you": {
            "fr": "Nous vous appelons au {phone} : décrochez, nous vous mettons en relation avec le client "
            "(il verra le numéro du support). L'alerte est suspendue pendant l'appel.",
            "en": "We are calling you on {phone}: pick up and we put you through to the client (they see the "
            "support number). Paging waits while you talk.",
        },
        "web_call_busy": {
            "fr": "Un appel vers le client est déjà en cours pour cette alerte.",
            "en": "A call to the client is already under way for this alert.",
        },
        "web_call_failed": {
            "fr": "L'appel n'a pas pu être passé. Réessayez dans un instant.",
            "en": "The call could not be placed. Try again in a moment.",
        },
        # --- the timeline ---
        "event.client_call": {
            "fr": "{name} appelle le client via l'astreinte (alerte suspendue)",
            "en": "{name} calls the client through astreinte (paging held)",
        },
        "event.client_call.ended": {
            "fr": "{name} appelle le client via l'astreinte (alerte suspendue jusqu'à {time})",
            "en": "{name} calls the client through astreinte (paging held until {time})",
        },
        "event.live_request": {
            "fr": "Le client demande à parler au technicien ({names})",
            "en": "The client asks to talk to the technician ({names})",
        },
        "event.live_unanswered": {
            "fr": "Personne n'a pris l'appel en direct ({names}) : le client laisse un message",
            "en": "Nobody took the live call ({names}): the client leaves a message",
        },
        "event.live_hung_up": {
            "fr": "Le client a raccroché sans laisser de message : l'alerte part quand même",
            "en": "The client hung up without leaving a message: the alert goes out all the same",
        },
    }
)
