"""What a carrier's error code means, for the people who read it on the dashboard and in the timeline
(« erreur 30003 : téléphone éteint ou hors réseau »). The codes are Twilio's, the ones a night of
pages meets; an unknown code is shown as it is."""

from __future__ import annotations

from words.catalogue import CATALOGUE, register

ERRORS: dict[str, tuple[str, str]] = {
    # SMS: the carrier's answer about one message
    "30001": ("file d'attente de l'opérateur saturée, réessayé", "carrier queue full, tried again"),
    "30002": ("compte Twilio suspendu", "Twilio account suspended"),
    "30003": ("téléphone éteint ou hors réseau", "phone switched off or out of coverage"),
    "30004": (
        "message bloqué par le destinataire ou son opérateur",
        "message blocked by the recipient or their carrier",
    ),
    "30005": ("numéro inconnu de l'opérateur", "number unknown to the carrier"),
    "30006": ("ligne fixe ou opérateur injoignable, pas de SMS", "landline or unreachable carrier, no SMS"),
    "30007": (
        "message filtré par l'opérateur (pris pour du spam)",
        "message filtered by the carrier (taken for spam)",
    ),
    "30008": ("erreur inconnue de l'opérateur", "unknown carrier error"),
    # Calls and requests
    "13224": ("numéro invalide pour un appel", "invalid number for a call"),
    "13225": (
        "destination interdite par les autorisations géographiques du compte",
        "destination forbidden by the account's geographic permissions",
    ),
    "13227": (
        "appels internationaux non autorisés sur le compte",
        "international calls not allowed on the account",
    ),
    "21211": ("numéro de destination invalide", "invalid destination number"),
    "21408": (
        "SMS non autorisés vers ce pays sur le compte",
        "SMS to this country not enabled on the account",
    ),
    "21610": (
        "le destinataire a répondu STOP : plus de SMS tant qu'il n'envoie pas START",
        "the recipient replied STOP: no SMS until they send START",
    ),
    "21612": (
        "ce numéro ne peut pas recevoir de SMS de l'expéditeur",
        "this number cannot receive SMS from the sender",
    ),
    "21614": ("ce numéro n'est pas un mobile", "this number is not a mobile"),
    "20003": (
        "identifiants Twilio refusés (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
        "Twilio credentials refused (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)",
    ),
    "20429": ("trop de requêtes vers Twilio, réessayé", "too many requests to Twilio, tried again"),
    "11200": (
        "Twilio n'a pas pu joindre PUBLIC_BASE_URL (lancez astreinte check)",
        "Twilio could not reach PUBLIC_BASE_URL (run astreinte check)",
    ),
}

register({f"label.carrier_error.{code}": {"fr": fr, "en": en} for code, (fr, en) in ERRORS.items()})
register({"carrier_error": {"fr": "erreur {code}", "en": "error {code}"}})


def carrier_error(code: str | int | None, lang: str = "fr") -> str:
    """« erreur 30003 : téléphone éteint ou hors réseau », or « erreur 12345 » for a code we do not know."""
    if code in (None, ""):
        return ""
    code = str(code)
    lang = "en" if lang == "en" else "fr"
    said = CATALOGUE["carrier_error"][lang].format(code=code)
    meaning = CATALOGUE.get(f"label.carrier_error.{code}")
    if meaning is None:
        return said
    return f"{said} : {meaning['fr']}" if lang == "fr" else f"{said}: {meaning['en']}"


CARRIER_NAMES = {"twilio": "Twilio", "vonage": "Vonage", "smtp": "SMTP"}


def carrier_named(carrier: str) -> str:
    """A carrier as a supervisor reads it (`twilio` → Twilio)."""
    return CARRIER_NAMES.get(carrier, carrier)
