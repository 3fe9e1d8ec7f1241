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

PORTAL = "support.serveurcom.com"  # the client portal, where a requête is opened (seed 003)

register(
    {
        "caller.portal": {"fr": PORTAL, "en": PORTAL},
        # --- after hours: the astreinte ---
        "caller.welcome": {
            "fr": "Bienvenue au service d'astreinte de Serveurcom.",
            "en": "Welcome to the Serveurcom on-call service.",
        },
        "caller.english": {
            "fr": "For English, press 9.",
            "en": "For English, press 9.",
        },
        "caller.ask_ticket": {
            "fr": "Tapez votre numéro de requête, puis la touche dièse.",
            "en": "Please key in your ticket number, then the hash key.",
        },
        "caller.bad_ticket": {
            "fr": "Un numéro de requête compte de {min} à {max} chiffres.",
            "en": "A ticket number has {min} to {max} digits.",
        },
        "caller.unknown_ticket": {
            "fr": "Nous ne trouvons aucune requête portant le numéro {digits}.",
            "en": "We cannot find a ticket numbered {digits}.",
        },
        "caller.read_ticket": {
            "fr": "Vous avez tapé le numéro de requête {digits}. Tapez 1 pour confirmer, 2 pour le corriger.",
            "en": "You keyed ticket number {digits}. Press 1 to confirm, 2 to correct it.",
        },
        "caller.ask_pin": {
            "fr": "Tapez le code PIN de votre compte client, puis la touche dièse.",
            "en": "Please key in the PIN of your customer account, then the hash key.",
        },
        "caller.wrong_pin": {
            "fr": "Ce code PIN n'est pas le bon.",
            "en": "That PIN is not correct.",
        },
        "caller.pin_ok": {
            "fr": "Merci. Requête {digits} : {subject}.",
            "en": "Thank you. Ticket {digits}: {subject}.",
        },
        "caller.offer_callback": {
            "fr": "Nous vous rappellerons au {digits}. Tapez 1 pour garder ce numéro, 2 pour en indiquer un autre.",
            "en": "We will call you back on {digits}. Press 1 to keep this number, 2 to give another one.",
        },
        "caller.ask_callback": {
            "fr": "Tapez le numéro de téléphone auquel nous pouvons vous rappeler, puis la touche dièse.",
            "en": "Please key in the phone number we can call you back on, then the hash key.",
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
            "en": "You keyed {digits}. Press 1 to confirm, 2 to correct it.",
        },
        "caller.notice": {
            "fr": "Après le bip, laissez votre message : votre nom et la raison de votre appel. "
            "Ce message est enregistré et conservé {days} jours pour le traitement de votre requête. "
            "Tapez dièse pour terminer.",
            "en": "After the beep, leave your message: your name and why you are calling. "
            "This message is recorded and kept for {days} days to handle your ticket. "
            "Press hash when you are done.",
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
            "Votre demande sera prise en charge dans un délai de {delay}.",
            "en": "Your message has been passed on to the on-call technician for ticket {digits}. "
            "A technician will pick up your request within {delay}.",
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
            "fr": "L'astreinte ne traite que les requêtes déjà ouvertes : ouvrez une requête sur le portail "
            "client {portal}, puis rappelez-nous avec son numéro.",
            "en": "The on-call service only handles tickets that are already open: open a ticket on the "
            "customer portal {portal}, then call us back with its number.",
        },
        "caller.refused.ticket_closed": {
            "fr": "Cette requête est close. Pour un nouvel incident, ouvrez une requête sur le portail client "
            "{portal}, puis rappelez-nous avec son numéro.",
            "en": "This ticket is closed. For a new incident, open a ticket on the customer portal {portal}, "
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
            "est suspendu. Rappelez dans {delay}, ou écrivez-nous sur le portail client {portal}.",
            "en": "For your security, after several wrong PINs, phone access to this account is suspended. "
            "Call again in {delay}, or write to us on the customer portal {portal}.",
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
            "souhaitez, ou écrivez-nous sur le portail client {portal}.",
            "en": "We did not get an answer, so we are ending the call. Call us back whenever you like, or write to "
            "us on the customer portal {portal}.",
        },
        "caller.refused.no_callback_number": {
            "fr": "Sans numéro de rappel valide, nous ne pouvons pas transmettre votre demande. Rappelez-nous "
            "d'un autre téléphone, ou écrivez-nous sur le portail client {portal}.",
            "en": "Without a valid callback number we cannot pass on your request. Call us back from another "
            "phone, or write to us on the customer portal {portal}.",
        },
        # --- business hours: the service desk ---
        "caller.desk.connecting": {
            "fr": "Serveurcom, bonjour. Nous vous mettons en relation avec le service client.",
            "en": "Hello, this is Serveurcom. We are putting you through to the service desk.",
        },
        "caller.desk.unavailable": {
            "fr": "Le service client est momentanément indisponible. Après le bip, laissez votre nom, votre "
            "numéro de requête si vous en avez un, et la raison de votre appel : nous vous rappellerons. "
            "Ce message est enregistré. Tapez dièse pour terminer.",
            "en": "The service desk is unavailable at the moment. After the beep, leave your name, your ticket number "
            "if you have one, and why you are calling: we will call you back. This message is recorded. "
            "Press hash when you are done.",
        },
        "caller.desk.thanks": {
            "fr": "Merci, votre message est transmis au service client. Au revoir.",
            "en": "Thank you, your message has been passed on to the service desk. Goodbye.",
        },
        # --- the SMS receipt (short: accents make it UCS-2, 70 characters a segment) ---
        "caller.sms.receipt": {
            "fr": "Serveurcom astreinte : message reçu à {time} pour la requête {number}. "
            "Prise en charge avant {due}.",
            "en": "Serveurcom on-call: message received at {time} for ticket {number}. "
            "A technician will pick it up by {due}.",
        },
    }
)


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


def spoken_number(raw: str, region: str, lang: str) -> str:
    """A phone number read digit by digit, as the caller knows it: "0 6 1 1 2 2 3 3 4 4"."""
    number = parse_number(raw, region)
    if number is None:
        return digits(raw, lang)
    if phonenumbers.region_code_for_number(number) == region:
        return digits(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), lang)
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
