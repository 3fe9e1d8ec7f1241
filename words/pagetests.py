"""The words of a page test: the test SMS and the test call a technician gets, the supervisor's SMS
when an evening test fails, and the dashboard's words for the results. The test SMS says plainly that
nothing is waiting, so that nobody on call is ever unsure whether it is a real alert."""

from __future__ import annotations

from words.catalogue import register, text
from words.pages import gsm7

register(
    {
        "test_sms": {
            "fr": "Astreinte : TEST d'alerte ({origin}), aucune alerte en attente. Rien à faire.",
            "en": "On-call: alert TEST ({origin}), no alert is waiting. Nothing to do.",
        },
        "test_origin_command": {"fr": "demande de l'exploitation", "en": "asked for by operations"},
        "test_origin_dashboard": {"fr": "demande du support", "en": "asked for by the desk"},
        "test_origin_evening": {"fr": "test du soir", "en": "evening test"},
        "test_call_hello": {
            "fr": "Bonjour {name}, ici l'astreinte. Ceci est un test d'alerte : aucune alerte réelle "
            "n'est en attente.",
            "en": "Hello {name}, this is the on-call desk. This is an alert test: no real alert is waiting.",
        },
        "test_call_press": {
            "fr": "Pour confirmer que vous entendez ce message, tapez 1.",
            "en": "To confirm that you can hear this message, press 1.",
        },
        "test_call_confirmed": {
            "fr": "Merci, c'est confirmé : vos alertes vous parviennent. Au revoir.",
            "en": "Thank you, confirmed: your alerts reach you. Goodbye.",
        },
        "test_call_no_key": {
            "fr": "Aucune touche reçue : le test n'est pas confirmé. Au revoir.",
            "en": "No key received: the test is not confirmed. Goodbye.",
        },
        "test_failed_sms": {  # to the supervisor
            "fr": "Astreinte : le test d'alerte du soir de {name} a échoué ({what}). "
            "Vérifiez son téléphone avant la nuit.",
            "en": "On-call: {name}'s evening alert test failed ({what}). Check their phone before the night.",
        },
    }
)

# The dashboard's words for page tests (French key, English translation) and the verdicts.
register(
    {
        f"ui:{fr}": {"fr": fr, "en": en}
        for fr, en in {
            "Tests d'alerte": "Alert tests",
            "Tester l'alerte": "Test the alert",
            "Test d'alerte de {name} envoyé : SMS et appel.": "Alert test of {name} sent: SMS and call.",
            "Le test d'alerte de {name} n'a pas pu partir : {error}": "The alert test of {name} could not "
            "be sent: {error}",
            "Aucun test d'alerte ces 7 derniers jours.": "No alert test in the last 7 days.",
            "test d'alerte de {name} en échec le {day} ({what})": "alert test of {name} failed on {day} "
            "({what})",
            "test d'alerte en échec le {day} ({what})": "an alert test failed on {day} ({what})",
            "Quand": "When",
            "Qui": "Who",
            "Origine": "Origin",
            "Appel": "Call",
            "Résultat": "Result",
            "1 tapé à {time}": "1 pressed at {time}",
            "Personne inconnue.": "Unknown person.",
            "alerte testée {day}": "alert tested {day}",
        }.items()
    }
)
register(
    {
        f"label.page_test.{code}": {"fr": fr, "en": en}
        for code, (fr, en) in {
            "ok": ("réussi", "passed"),
            "unconfirmed": ("reçu, non confirmé", "reached, not confirmed"),
            "failed": ("échec", "failed"),
            "not-sent": ("non envoyé (boîte d'envoi locale)", "not sent (local outbox)"),
            "running": ("en cours", "running"),
            "command": ("commande", "command"),
            "dashboard": ("tableau de bord", "dashboard"),
            "evening": ("test du soir", "evening test"),
        }.items()
    }
)
register(
    {
        f"label.page_test_problem.{code}": {"fr": fr, "en": en}
        for code, (fr, en) in {
            "sms-failed": ("SMS non remis", "SMS not delivered"),
            "sms-silent": ("SMS sans nouvelles de l'opérateur", "no word from the carrier on the SMS"),
            "call-busy": ("ligne occupée", "line busy"),
            "call-no-answer": ("appel sans réponse", "call not answered"),
            "call-machine": ("messagerie vocale au lieu de la personne", "voicemail instead of the person"),
            "call-failed": ("appel impossible", "the call failed"),
            "call-canceled": ("appel annulé", "call cancelled"),
            "call-silent": ("appel sans issue", "the call had no outcome"),
        }.items()
    }
)


def test_page_sms(lang: str, origin: str) -> str:
    """The test SMS: one GSM-7 segment."""
    return gsm7(text("test_sms", lang, origin=text(f"test_origin_{origin}", lang)))
