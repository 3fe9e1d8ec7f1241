"""What an on-call technician hears in a page call and reads in a page SMS or on the take-over page,
and the SMS a caller gets when someone took over. French first, English for those who chose it.

SMS are written in GSM-7 (é, è, à, É are in it; ç, ê, â… are not, and one of them would turn the
whole SMS into UCS-2, 70 characters a segment): what the catalogue or a ticket brings outside GSM-7 is
folded to its plain letter (ç → c). A page SMS is one segment where possible, two at most; a bundle
of many alerts is summarised ("et 45 autres : ouvrez le lien") in three at most, far below the 1,600
characters Twilio accepts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from words.catalogue import digits, register, text

register(
    {
        # --- the page SMS --------------------------------------------------------------------------
        # the subject and an absolute deadline; {priority} is left out when it costs a segment. Never the
        # client's number: a phone makes it a link, and the technician would show their own number to the
        # client; the link's "call the client through astreinte" shows the support number.
        "sms_page": {
            "fr": "Astreinte {ticket} {client}{priority} : {subject}. {deadline}. Client{english} : {callback}. "
            "{reply}OK {ticket} ou {link}",
            "en": "On-call {ticket} {client}{priority}: {subject}. {deadline}. Client{english}: {callback}. "
            "{reply}OK {ticket} or {link}",
        },
        "sms_callback": {"fr": "rappel via le lien", "en": "call back via the link"},
        "sms_no_callback": {"fr": "pas de n° de rappel", "en": "no callback number"},
        "sms_resolution_missed": {  # every missed commitment escalates (003): the resolution target too
            "fr": "Escalade : {ticket} {client} ({subject}) non résolue dans le délai. {link}",
            "en": "Escalation: ticket {ticket} {client} ({subject}) not resolved in time. {link}",
        },
        # a message the fallback recorded while astreinte was down, no ticket known: who left it, never a
        # number to dial from the technician's own phone (the client would see it)
        "sms_fallback_message": {
            "fr": "Astreinte : message laissé à {time} pendant une panne par {caller}, requête inconnue. "
            "Il attend le service desk (journal des appels).",
            "en": "On-call: message left at {time} during an outage by {caller}, no known ticket. "
            "It waits for the desk (call log).",
        },
        "fallback_caller_contact": {"fr": "{name} ({client})", "en": "{name} ({client})"},
        "fallback_caller_number": {"fr": "un numéro finissant par {end}", "en": "a number ending {end}"},
        "fallback_caller_withheld": {"fr": "un numéro masqué", "en": "a withheld number"},
        "sms_priority": {"fr": " prio {priority}", "en": " priority {priority}"},
        "sms_english": {"fr": " (parle anglais)", "en": " (speaks English)"},
        "sms_reply": {"fr": "Répondez ", "en": "Reply "},
        "sms_page_bundle": {
            "fr": "Astreinte : {count} alertes. {items}. Répondez OK + numéro ou {link}",
            "en": "On-call: {count} alerts. {items}. Reply OK + number or {link}",
        },
        "sms_bundle_item": {"fr": "{ticket} {client} ({deadline})", "en": "{ticket} {client} ({deadline})"},
        "sms_bundle_more": {
            "fr": "et {count} autres : ouvrez le lien",
            "en": "and {count} more: open the link",
        },
        "left": {"fr": "reste {minutes} min", "en": "{minutes} min left"},
        "over": {"fr": "délai dépassé de {minutes} min", "en": "{minutes} min overdue"},
        "before": {"fr": "avant {time}", "en": "before {time}"},
        "missed": {"fr": "délai dépassé depuis {time}", "en": "overdue since {time}"},
        # --- replies to the technician's SMS --------------------------------------------------------
        "sms_taken": {
            "fr": "C'est noté : vous avez pris en charge la requête {ticket} à {time}.{callback}",
            "en": "Noted: you took over ticket {ticket} at {time}.{callback}",
        },
        "sms_taken_callback": {
            "fr": " Pour rappeler le client : le lien de l'alerte.",
            "en": " To call the client back: the alert's link.",
        },
        "sms_yours": {
            "fr": "Vous avez déjà pris en charge la requête {ticket} à {time}.",
            "en": "You already took over ticket {ticket} at {time}.",
        },
        "sms_already": {
            "fr": "Requête {ticket} déjà prise en charge par {name} à {time}.",
            "en": "Ticket {ticket} was already taken over by {name} at {time}.",
        },
        "sms_no_callout": {
            "fr": "Aucune alerte en cours pour la requête {ticket}.",
            "en": "No alert is waiting for ticket {ticket}.",
        },
        "sms_not_paged": {
            "fr": "Vous n'êtes pas alerté pour la requête {ticket} : prenez-la en charge depuis le tableau de bord.",
            "en": "You were not paged for ticket {ticket}: take it over from the dashboard.",
        },
        "sms_nothing_waiting": {
            "fr": "Aucune alerte en attente pour vous. Pour prendre en charge : OK suivi du numéro de requête.",
            "en": "No alert is waiting for you. To take over: OK followed by the ticket number.",
        },
        "sms_several": {
            "fr": "Plusieurs alertes en attente ({tickets}) : répondez OK suivi du numéro de requête.",
            "en": "Several alerts are waiting ({tickets}): reply OK followed by the ticket number.",
        },
        "sms_help": {
            "fr": "Astreinte : pour prendre en charge, répondez OK suivi du numéro de requête (ex. OK {example}).",
            "en": "On-call: to take over, reply OK followed by the ticket number (e.g. OK {example}).",
        },
        # --- the page call --------------------------------------------------------------------------
        "page_hello": {
            "fr": "Bonjour {name}, ici l'astreinte.",
            "en": "Hello {name}, this is the on-call desk.",
        },
        "page_bundle": {
            "fr": "Vous avez {count} alertes en attente.",
            "en": "You have {count} alerts waiting.",
        },
        "page_alert": {
            "fr": "Requête {ticket}, {client} : {subject}. Service {service}, priorité {priority}. "
            "Message laissé à {time}.",
            "en": "Ticket {ticket}, {client}: {subject}. Service {service}, priority {priority}. "
            "Message left at {time}.",
        },
        "page_left": {"fr": "Il reste {minutes} {unit}.", "en": "{minutes} {unit} left."},
        "page_over": {
            "fr": "Le délai est dépassé de {minutes} {unit}.",
            "en": "The deadline passed {minutes} {unit} ago.",
        },
        "page_menu": {
            "fr": "Pour prendre en charge, tapez 1. Pour écouter le message, tapez 2. Pour appeler le client, "
            "tapez 3. Pour refuser, tapez 9. Pour réécouter, tapez étoile.",
            "en": "To take over, press 1. To hear the message, press 2. To call the client, press 3. "
            "To decline, press 9. To hear this again, press star.",
        },
        "page_taken": {
            "fr": "C'est noté : vous avez pris en charge la requête {ticket}.",
            "en": "Noted: you took over ticket {ticket}.",
        },
        "page_client_texted": {
            "fr": "Le client est prévenu par SMS.",
            "en": "The client is told by text message.",
        },
        "page_call_client_now": {
            "fr": "Pour appeler le client maintenant, tapez 3.",
            "en": "To call the client now, press 3.",
        },
        "page_already": {
            "fr": "La requête {ticket} a déjà été prise en charge par {name} à {time}.",
            "en": "Ticket {ticket} was already taken over by {name} at {time}.",
        },
        "page_declined": {
            "fr": "C'est noté, nous prévenons la personne suivante.",
            "en": "Noted, we are alerting the next person.",
        },
        "page_no_message": {"fr": "Le message n'est pas disponible.", "en": "The message is not available."},
        "page_no_callback": {
            "fr": "Aucun numéro de rappel n'a été laissé.",
            "en": "No callback number was left.",
        },
        "page_connecting": {"fr": "Mise en relation avec le client.", "en": "Connecting you to the client."},
        "page_bad_key": {"fr": "Touche non reconnue.", "en": "Unknown key."},
        "page_no_input": {
            "fr": "Sans réponse de votre part, l'alerte continue. Au revoir.",
            "en": "Without an answer from you, the alert goes on. Goodbye.",
        },
        "page_nothing_waiting": {
            "fr": "Plus aucune alerte n'est en attente. Merci, au revoir.",
            "en": "No alert is waiting any more. Thank you, goodbye.",
        },
        "page_goodbye": {"fr": "Merci, au revoir.", "en": "Thank you, goodbye."},
        "page_next": {"fr": "Alerte suivante.", "en": "Next alert."},
        # --- the mobile take-over page --------------------------------------------------------------
        "web_title": {"fr": "Astreinte", "en": "On-call"},
        "web_take_over": {"fr": "Je prends en charge", "en": "I take over"},
        "web_taken": {
            "fr": "C'est noté : vous avez pris en charge la requête {ticket} à {time}.",
            "en": "Noted: you took over ticket {ticket} at {time}.",
        },
        "web_client_texted": {"fr": "Le client est prévenu par SMS.", "en": "The client has been texted."},
        "web_client_not_texted": {
            "fr": "Le client n'a pas de mobile : appelez-le via l'astreinte.",
            "en": "The client has no mobile: call them through astreinte.",
        },
        "web_already": {
            "fr": "Déjà pris en charge par {name} à {time}.",
            "en": "Already taken over by {name} at {time}.",
        },
        "web_yours": {"fr": "Pris en charge par vous à {time}.", "en": "Taken over by you at {time}."},
        "web_cancelled": {"fr": "Alerte annulée.", "en": "Alert cancelled."},
        "web_call_client": {"fr": "Appeler le client", "en": "Call the client"},
        "web_message": {"fr": "Message", "en": "Message"},
        "web_no_message": {"fr": "Message indisponible", "en": "Message unavailable"},
        "web_expired": {
            "fr": "Ce lien a expiré. Répondez OK suivi du n° de requête au SMS d'astreinte.",
            "en": "This link has expired. Reply OK followed by the ticket number to the on-call text.",
        },
        "web_invalid": {"fr": "Lien invalide.", "en": "Invalid link."},
        "web_not_in_link": {
            "fr": "Cette alerte n'est pas dans ce lien. Ouvrez le lien du SMS qui l'annonce.",
            "en": "This alert is not in this link. Open the link of the text that announced it.",
        },
        "web_message_at": {"fr": "message de {time}", "en": "message at {time}"},
        "web_deadline": {"fr": "Prise en charge attendue avant {time}", "en": "Take over before {time}"},
    }
)


@dataclass(frozen=True)
class Alert:
    """What a page says about one callout."""

    ticket: str
    client: str
    service: str
    priority: str
    callback: str
    due_at: datetime
    message_at: datetime  # local time
    subject: str = ""
    english: bool = False  # the caller spoke English (the page says so)

    @property
    def has_callback(self) -> bool:
        """A number to call the client back on, through astreinte (the page never prints it)."""
        return self.callback not in ("", "-")


def time_left(lang: str, due_at: datetime, now: datetime) -> str:
    minutes = int((due_at - now) / timedelta(minutes=1))
    if due_at >= now:
        return text("left", lang, minutes=max(minutes, 0))
    return text("over", lang, minutes=max(-minutes, 1))


GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SMS_MAX_SEGMENTS = 3  # a bundle; Twilio refuses more than 1,600 characters (error 21617)
FOLD = {"’": "'", "‘": "'", "«": '"', "»": '"', "–": "-", "—": "-", "…": "...", "œ": "oe", "Œ": "OE"}


def gsm7(body: str) -> str:
    """The SMS in GSM-7: a character outside it becomes its plain letter (ç → c, ê → e), or '?'."""
    out = []
    for ch in body:
        if ch in GSM7:
            out.append(ch)
        elif ch in FOLD:
            out.append(FOLD[ch])
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(plain if plain and set(plain) <= GSM7 else "?")
    return "".join(out)


def segments(body: str) -> int:
    """How many SMS Twilio bills: GSM-7 160/153 a segment, else UCS-2 70/67 (UTF-16 code units)."""
    if set(body) <= GSM7:
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def deadline(lang: str, a: Alert, now: datetime) -> str:
    """ "Avant 23:40", or "Délai dépassé depuis 23:40": an absolute time stays true however late it is read."""
    local = a.due_at.astimezone(a.message_at.tzinfo)
    return text("before" if a.due_at >= now else "missed", lang, time=f"{local:%H:%M}")


def page_sms(lang: str, alerts: list[Alert], link: str, now: datetime) -> str:
    """One SMS for one alert (one segment where possible, two at most), or one SMS listing a bundle."""
    if len(alerts) == 1:
        return _one_alert(lang, alerts[0], link, now)
    return _bundle(lang, alerts, link, now)


def _one_alert(lang: str, a: Alert, link: str, now: datetime) -> str:
    def body(subject: str, priority: bool = True, reply: bool = True) -> str:
        return gsm7(
            text(
                "sms_page",
                lang,
                ticket=a.ticket,
                client=a.client,
                priority=text("sms_priority", lang, priority=a.priority) if priority else "",
                subject=subject,
                deadline=deadline(lang, a, now).capitalize(),
                callback=text("sms_callback" if a.has_callback else "sms_no_callback", lang),
                english=text("sms_english", lang) if a.english else "",
                reply=text("sms_reply", lang) if reply else "",
                link=link,
            )
        )

    subject = " ".join(a.subject.split()) or "-"
    for priority, reply in ((True, True), (False, True), (False, False)):  # one segment where possible
        if segments(candidate := body(subject, priority, reply)) == 1:
            return candidate
    if segments(candidate := body(subject)) <= 2:
        return candidate
    while len(subject) > 8 and segments(candidate := body(subject + "...", False)) > 2:  # a long subject
        subject = subject[: -max(1, len(candidate) - 2 * 153)].rstrip(" .")
    return body(subject + "...", False)


def _bundle(lang: str, alerts: list[Alert], link: str, now: datetime) -> str:
    def item(a: Alert) -> str:
        return text(
            "sms_bundle_item",
            lang,
            ticket=a.ticket,
            client=a.client,
            deadline=deadline(lang, a, now),
        )

    def body(shown: list[str], more: int) -> str:
        items = "; ".join([*shown, *([text("sms_bundle_more", lang, count=more)] if more else [])])
        return gsm7(text("sms_page_bundle", lang, count=len(alerts), items=items, link=link))

    shown: list[str] = []
    for a in alerts:  # as many as fit in SMS_MAX_SEGMENTS, then "and 45 more: open the link"
        more = len(alerts) - len(shown) - 1
        if segments(body([*shown, item(a)], more)) > SMS_MAX_SEGMENTS:
            break
        shown.append(item(a))
    return body(shown, len(alerts) - len(shown))


def spoken_alert(lang: str, a: Alert, now: datetime) -> list[str]:
    """What a page call says of one alert, a sentence each (whichever carrier calls): the ticket and its
    facts, that the caller speaks English when they do, the time left or overdue."""
    minutes = int((a.due_at - now).total_seconds() // 60)
    facts = {"client": a.client, "subject": a.subject, "service": a.service, "priority": a.priority}
    said = [
        text("page_alert", lang, ticket=digits(a.ticket, lang), time=spoken_time(a.message_at, lang), **facts)
    ]
    if a.english:
        said.append(text("live.speaks_english", lang))
    left = "page_left" if minutes >= 0 else "page_over"
    said.append(text(left, lang, minutes=abs(minutes), unit=minute_word(abs(minutes), lang)))
    return said


def minute_word(count: int, lang: str) -> str:
    """'minute' or 'minutes' as each language says it (French: 0 and 1 are singular)."""
    singular = count < 2 if lang == "fr" else count == 1
    return "minute" if singular else "minutes"


def spoken_time(at: datetime, lang: str) -> str:
    """23 h 19 in French (a speech engine reads it as the time), 23:19 in English."""
    return f"{at:%H} h {at:%M}" if lang == "fr" else f"{at:%H:%M}"
