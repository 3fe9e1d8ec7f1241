"""What a client hears on the support number, in French and English, and the SMS receipt they get.

Registered in the catalogue (`words/catalogue.py`); the webhooks say them with `voice.twiml.say(...)`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import phonenumbers

from org.hours import next_opening
from org.orgfile import Org
from org.phones import e164, parse_number
from words.catalogue import digits, register, text
from words.ui import MONTHS, WEEKDAYS

register(
    {
        # The organisation file's `portal`, as the refusals say it; without one, the desk by day.
        "caller.portal": {
            "fr": "sur le portail client {portal}",
            "en": "on the customer portal {portal}",
        },
        "caller.portal.none": {"fr": "aux heures ouvrées", "en": "during business hours"},
        "caller.hello.day": {"fr": "Bonjour", "en": "Hello"},
        "caller.hello.evening": {"fr": "Bonsoir", "en": "Good evening"},
        # --- after hours: the astreinte ---
        "caller.welcome": {
            "fr": "{hello}, ici l'astreinte {name}, réservée aux requêtes déjà ouvertes.",
            "en": "{hello}, this is {name} on-call, for open tickets only.",
        },
        "caller.welcome.unnamed": {
            "fr": "{hello}, ici l'astreinte, réservée aux requêtes déjà ouvertes.",
            "en": "{hello}, this is the on-call service, for open tickets only.",
        },
        "caller.english": {
            "fr": "For English, press 9.",
            "en": "For English, press 9.",
        },
        "caller.ask_ticket": {
            "fr": "Tapez votre numéro de requête, puis tapez dièse.",
            "en": "Enter your ticket number, then press hash.",
        },
        "caller.open_first": {  # said early to a caller with no ticket (silence, an unknown number)
            "fr": "Cette ligne sert aux requêtes déjà ouvertes. Pour en ouvrir une, contactez-nous {portal}.",
            "en": "This line is for tickets that are already open. To open one, contact us {portal}.",
        },
        "caller.bad_ticket": {
            "fr": "Un numéro de requête comporte de {min} à {max} chiffres.",
            "en": "A ticket number has {min} to {max} digits.",
        },
        "caller.unknown_ticket": {
            "fr": "Nous ne trouvons aucune requête portant le numéro {digits}.",
            "en": "We cannot find a ticket numbered {digits}.",
        },
        "caller.ask_pin": {  # the ticket number read back inside the question: no key to confirm it
            "fr": "Requête {digits}. Tapez votre code PIN client, puis tapez dièse, ou étoile pour corriger "
            "le numéro.",
            "en": "Ticket {digits}. Enter your PIN and press hash; star corrects the number.",
        },
        "caller.wrong_pin": {
            "fr": "Ce code PIN est incorrect.",
            "en": "That PIN is incorrect.",
        },
        "caller.pin_ok": {  # the subject follows, in the voice of the language it is written in
            "fr": "Merci. Requête :",
            "en": "Thank you. Ticket:",
        },
        "caller.contest": {  # 004: a resolved ticket may be contested for 48 h
            "fr": "Cette requête est résolue : votre message la rouvrira.",
            "en": "This ticket is resolved: your message will reopen it.",
        },
        "caller.contest_closed": {  # 004: a closed ticket too, 48 h after the notice of closure
            "fr": "Cette requête est close : votre message la rouvrira.",
            "en": "This ticket is closed: your message will reopen it.",
        },
        "caller.already_taken": {  # 000/001: a client may ask for escalation
            "fr": "{name} a pris en charge cette requête à {time}. Pour demander une escalade, tapez 3.",
            "en": "{name} took over this ticket at {time}. To ask for escalation, press 3.",
        },
        "caller.escalation_noted": {
            "fr": "Escalade demandée : le responsable d'astreinte sera alerté dès votre message.",
            "en": "Escalation requested: the on-call supervisor will be alerted as soon as you leave your message.",
        },
        "caller.offer_callback": {  # a short pause of silence keeps the number
            "fr": "Nous vous rappellerons au {digits}. Pour un autre numéro, tapez 2.",
            "en": "We will call you back on {digits}. For another number, press 2.",
        },
        "caller.ask_callback": {
            "fr": "Tapez le numéro de téléphone où vous rappeler, puis tapez dièse.",
            "en": "Enter the phone number we can call you back on, then press hash.",
        },
        "caller.uncallable_callback": {
            "fr": "Nous ne rappelons pas les numéros surtaxés ni satellites : donnez un autre numéro.",
            "en": "We do not call back premium-rate or satellite numbers: please give another number.",
        },
        "caller.invalid_callback": {
            "fr": "Ce numéro de téléphone n'est pas valide.",
            "en": "That phone number is not valid.",
        },
        "caller.callback_kept": {
            "fr": "Nous vous rappellerons donc au {digits}.",
            "en": "We will call you back on {digits}, then.",
        },
        "caller.read_callback": {
            "fr": "Vous avez tapé le {digits}. Tapez 1 pour confirmer, 2 pour le corriger.",
            "en": "You entered {digits}. Press 1 to confirm, 2 to correct it.",
        },
        "caller.notice": {  # RGPD: that it is recorded, what for, how long (the controller is in the welcome)
            "fr": "Votre message sera enregistré et conservé {days} jours pour traiter votre requête. "
            "Après le bip, dites votre nom et la raison de l'appel, puis tapez dièse.",
            "en": "Your message will be recorded and kept for {days} days for your ticket. "
            "After the beep, give your name and reason for calling, then press hash.",
        },
        "caller.no_message": {
            "fr": "Nous n'avons pas entendu de message.",
            "en": "We did not hear a message.",
        },
        "caller.confirm_message": {
            "fr": "Tapez 1 pour envoyer votre message, 2 pour l'enregistrer à nouveau.",
            "en": "Press 1 to send your message, 2 to record it again.",
        },
        "caller.message_sent": {
            "fr": "Votre message est transmis au technicien d'astreinte pour la requête {digits}. "
            "Votre demande sera prise en charge au plus tard dans {delay}.",
            "en": "Your message has been passed on to the on-call technician for ticket {digits}. "
            "A technician will take it over within {delay} at the latest.",
        },
        "caller.sms_coming": {
            "fr": "Vous allez recevoir une confirmation par SMS.",
            "en": "You will receive a confirmation by text message.",
        },
        "caller.not_understood": {"fr": "Nous n'avons pas compris.", "en": "Sorry, we did not get that."},
        "caller.nothing_heard": {"fr": "Nous n'avons rien entendu.", "en": "We did not hear anything."},
        "caller.unavailable": {
            "fr": "Le service est momentanément indisponible. Merci de rappeler dans quelques minutes.",
            "en": "The service is unavailable at the moment. Please call again in a few minutes.",
        },
        "caller.goodbye": {"fr": "Merci de votre appel. Au revoir.", "en": "Thank you for calling. Goodbye."},
        "caller.reopens": {
            "fr": " Le service client rouvre {opening}.",
            "en": " The service desk opens again {opening}.",
        },
        # --- refusals: why, and what to do next ---
        "caller.refused.unknown_ticket": {
            "fr": "L'astreinte ne traite que les requêtes déjà ouvertes : ouvrez une requête {portal}, "
            "puis rappelez-nous avec son numéro.",
            "en": "The on-call service only handles tickets that are already open: open a ticket {portal}, "
            "then call us back with its number.",
        },
        "caller.refused.ticket_closed": {
            "fr": "Cette requête est close. Pour un nouvel incident, ouvrez une requête {portal}, "
            "puis rappelez-nous avec son numéro.",
            "en": "This ticket is closed. For a new incident, open a ticket {portal}, "
            "then call us back with its number.",
        },
        "caller.refused.bad_pin": {
            "fr": "Le code PIN n'a pas été reconnu. Vous le trouverez sur votre contrat ; le service client "
            "peut aussi vous le communiquer.{reopens}",
            "en": "The PIN was not recognised. You will find it in your contract; the service desk can also "
            "give it to you.{reopens}",
        },
        "caller.refused.locked": {
            "fr": "Pour votre sécurité, après plusieurs codes PIN erronés, l'accès par téléphone à ce compte "
            "est suspendu depuis ce numéro. Rappelez dans {delay}.",
            "en": "For your security, after several wrong PINs, phone access to this account is suspended from "
            "this number. Call again in {delay}.",
        },
        "caller.refused.no_astreinte_option": {
            "fr": "Votre contrat ne comprend pas l'option astreinte : votre requête sera traitée aux heures "
            "ouvrées.{reopens}",
            "en": "Your contract does not include the on-call option: your ticket will be handled during "
            "business hours.{reopens}",
        },
        "caller.refused.service_not_covered": {
            "fr": "Le service concerné par cette requête n'est pas couvert par l'astreinte : votre requête sera "
            "traitée aux heures ouvrées.{reopens}",
            "en": "The service this ticket is about is not covered by the on-call service: your ticket will be "
            "handled during business hours.{reopens}",
        },
        "caller.refused.priority_waits": {
            "fr": "La priorité de cette requête ne relève pas de l'astreinte : votre requête sera traitée aux "
            "heures ouvrées.{reopens}",
            "en": "The priority of this ticket is not handled by the on-call service: your ticket will be "
            "handled during business hours.{reopens}",
        },
        "caller.refused.no_input": {
            "fr": "Sans réponse de votre part, nous mettons fin à l'appel. Rappelez-nous quand vous le "
            "souhaitez, ou contactez-nous {portal}.",
            "en": "We did not get an answer, so we are ending the call. Call us back whenever you like, or contact "
            "us {portal}.",
        },
        "caller.refused.no_callback_number": {
            "fr": "Sans numéro de rappel valide, nous ne pouvons pas transmettre votre demande. Rappelez-nous "
            "d'un autre téléphone, ou contactez-nous {portal}.",
            "en": "Without a valid callback number we cannot pass on your request. Call us back from another "
            "phone, or contact us {portal}.",
        },
        "caller.desk_offer": {  # after a refusal: a message for the desk (no page), in the morning's call log
            "fr": "Contactez-nous {portal}, ou laissez ici un message au service client. "
            "Votre message sera enregistré et conservé {days} jours. Après le bip, parlez, puis tapez dièse.",
            "en": "Contact us {portal}, or leave a message here for the service desk. "
            "It will be recorded and kept for {days} days. After the beep, speak, then press hash.",
        },
        # --- business hours: the service desk ---
        "caller.desk.connecting": {
            "fr": "{name}, bonjour. Nous vous mettons en relation avec le service client.",
            "en": "Hello, this is {name}. We are putting you through to the service desk.",
        },
        "caller.desk.connecting.unnamed": {
            "fr": "Bonjour. Nous vous mettons en relation avec le service client.",
            "en": "Hello. We are putting you through to the service desk.",
        },
        "caller.desk.unavailable": {
            "fr": "Le service client est momentanément indisponible. Après le bip, laissez votre nom, votre "
            "numéro de requête si vous en avez un, et la raison de votre appel : nous vous rappellerons. "
            "Votre message sera enregistré et conservé {days} jours. Tapez dièse pour terminer.",
            "en": "The service desk is unavailable at the moment. After the beep, leave your name, your ticket number "
            "if you have one, and why you are calling: we will call you back. Your message will be recorded and "
            "kept for {days} days. Press hash when you are done.",
        },
        "caller.desk.thanks": {
            "fr": "Merci, votre message est transmis au service client. Au revoir.",
            "en": "Thank you, your message has been passed on to the service desk. Goodbye.",
        },
        # --- the caller's SMS: one GSM-7 segment with the brand (no ç, ê, â: one of them makes the
        # whole SMS UCS-2, 70 characters a segment; é, è, à are GSM-7) ---
        "caller.sms.brand": {"fr": "{name} astreinte : ", "en": "{name} on-call: "},
        "caller.sms.brand.unnamed": {"fr": "Astreinte : ", "en": "On-call: "},
        "caller.sms.portal": {"fr": " Suivi : {portal}", "en": " Follow it on {portal}"},
        "caller.sms.receipt": {
            "fr": "votre message de {time} sur la demande {number} est transmis. "
            "Prise en charge avant {due}.",
            "en": "your message of {time} on ticket {number} was passed on. "
            "A technician will take it over by {due}.",
        },
        "caller.sms.taken_over": {
            "fr": "{name} a pris en charge votre demande {number} à {time}.",
            "en": "{name} took over your ticket {number} at {time}.",
        },
        "caller.sms.escalated": {
            "fr": "le délai de {due} est dépassé pour votre demande {number}. "
            "Nous alertons le responsable d'astreinte.",
            "en": "the {due} deadline on your ticket {number} was missed. "
            "We are alerting the on-call supervisor.",
        },
    }
)


def named(key: str, org: Org) -> str:
    """The entry that names the provider (`name` in the organisation file), or its `.unnamed` twin."""
    return key if org.name else f"{key}.unnamed"


def hello(org: Org, now: datetime, lang: str) -> str:
    """ "Bonsoir" from 18:00 until 5:00, "Bonjour" otherwise (a Saturday morning is the astreinte too)."""
    hour = now.astimezone(org.timezone).hour
    return text("caller.hello.evening" if hour >= 18 or hour < 5 else "caller.hello.day", lang)


def portal_said(org: Org, lang: str) -> str:
    """Where a ticket is opened, as a refusal says it: "sur le portail client support.example.com"."""
    if not org.portal:
        return text("caller.portal.none", lang)
    return text("caller.portal", lang, portal=org.portal)


def caller_sms(org: Org, key: str, lang: str, **values: object) -> str:
    """An SMS to a caller: the provider's name first, the portal last (both from the organisation file)."""
    body = text(named("caller.sms.brand", org), lang, name=org.name) + text(key, lang, **values)
    if org.portal:
        body += text("caller.sms.portal", lang, portal=org.portal)
    return body


def spoken_opening(opening: datetime, now: datetime, lang: str) -> str:
    """When the desk opens, as said aloud: "demain, jeudi 26 novembre, à 8 h 30" (both local)."""
    days = (opening.date() - now.date()).days
    if lang == "en":
        when = f"{WEEKDAYS['en'][opening.weekday()]} {opening.day} {MONTHS['en'][opening.month - 1]}"
        at = f"at {opening.hour}:{opening.minute:02d}"
        prefix = {0: "today, ", 1: "tomorrow, "}.get(days, "")
        return f"{prefix}{when}, {at}"
    day = "1er" if opening.day == 1 else str(opening.day)  # "lundi 1er décembre"
    when = f"{WEEKDAYS['fr'][opening.weekday()]} {day} {MONTHS['fr'][opening.month - 1]}"
    at = f"à {opening.hour} h {opening.minute:02d}" if opening.minute else f"à {opening.hour} h"
    prefix = {0: "aujourd'hui, ", 1: "demain, "}.get(days, "")
    return f"{prefix}{when}, {at}"


def desk_reopens(org: Org, now: datetime, lang: str) -> str:
    """The sentence saying when the service desk opens again, or nothing when it never opens (an
    organisation without business hours: the astreinte answers around the clock)."""
    try:
        opening = next_opening(org, now)
    except ValueError:
        return ""
    said = spoken_opening(opening.astimezone(org.timezone), now.astimezone(org.timezone), lang)
    return text("caller.reopens", lang, opening=said)


def clock_time(at: datetime) -> str:
    """23:42, for SMS."""
    return f"{at.hour:02d}:{at.minute:02d}"


def spoken_delay(delay: timedelta, lang: str) -> str:
    """A delay as said aloud: "30 minutes", "1 minute", "2 heures", "1 heure 30" / "1 hour 30 minutes"."""
    total = max(0, int(delay.total_seconds() // 60))
    hours, mins = divmod(total, 60)
    if lang == "en":
        parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
        if mins or not hours:
            parts.append(f"{mins} minute{'s' * (mins != 1)}")
        return " ".join(parts)
    if not hours:
        return f"{mins} minute{'s' * (mins > 1)}"
    spoken = f"{hours} heure{'s' * (hours > 1)}"
    return f"{spoken} {mins}" if mins else spoken


UNITS_FR = (
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize "
    "dix-sept dix-huit dix-neuf"
).split()
TENS_FR = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante", 8: "quatre-vingt"}


def french_number(n: int) -> str:
    """0 to 99 in words, as a French voice says a pair of a phone number: 71 "soixante et onze"."""
    if n < 20:
        return UNITS_FR[n]
    tens, unit = divmod(n, 10)
    if tens in (7, 9):  # soixante-dix…, quatre-vingt-dix…
        base, rest = TENS_FR[tens - 1], unit + 10
        joint = " et " if (tens, unit) == (7, 1) else "-"
        return f"{base}{joint}{UNITS_FR[rest]}"
    base = TENS_FR[tens]
    if unit == 0:
        return "quatre-vingts" if tens == 8 else base
    if unit == 1 and tens != 8:
        return f"{base} et un"
    return f"{base}-{UNITS_FR[unit]}"


def french_pairs(national: str) -> str:
    """A French number read in pairs, as people say it: "zéro six, onze, vingt-deux, trente-trois…"."""
    said = []
    for group in national.split():
        if len(group) == 2 and group.isdigit():
            said.append(f"zéro {UNITS_FR[int(group[1])]}" if group[0] == "0" else french_number(int(group)))
        else:
            said.append(digits(group, "fr"))
    return ", ".join(said)


def spoken_number(raw: str, region: str, lang: str) -> str:
    """A phone number as the caller knows it: in French in pairs ("zéro six, onze, vingt-deux,
    trente-trois, quarante-quatre"), in English digit by digit ("0 6 1 1 2 2 3 3 4 4")."""
    number = parse_number(raw, region)
    if number is None:
        return digits(raw, lang)
    own = phonenumbers.region_code_for_number(number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if own == region:
        if lang == "fr" and region == "FR":
            return french_pairs(national)
        return digits(national, lang)
    if own and national.lstrip().startswith("0"):  # abroad, as its owner knows it: "0 7 9 1 1…" in the UK
        return digits(national, lang)
    return "+ " + digits(e164(number), lang)


# --- a technician calling the support number from their own phone: who is on call tonight ---------
register(
    {
        "caller.rota_tonight": {
            "fr": "Bonjour {name}. Cette nuit, l'astreinte principale est tenue par {primary}, "
            "le renfort par {backup}.",
            "en": "Hello {name}. Tonight, the primary on call is {primary}, and the backup is {backup}.",
        },
        "caller.rota_nobody": {"fr": "personne", "en": "nobody"},
        "caller.rota_goodbye": {"fr": "Au revoir.", "en": "Goodbye."},
    }
)
