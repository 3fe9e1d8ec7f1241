"""The rota's words outside the dashboard: the supervisor's SMS about a coming gap, the calendar
feeds' event titles, and what an operator must fix before tonight (the warnings of /healthz and the
dashboard's banner), in French and English."""

from __future__ import annotations

from words.catalogue import register, text

register(
    {
        "rota.gap_sms": {
            "fr": "Astreinte : personne n'est {position} à partir du {day} à {time}. "
            "Complétez le planning dans le tableau de bord.",
            "en": "On call: nobody is {position} from {day} at {time}. Please fill the rota in the dashboard.",
        },
        "rota.gap_now_sms": {
            "fr": "Astreinte : personne n'est {position} en ce moment. Complétez le planning dans le tableau de bord.",
            "en": "On call: nobody is {position} right now. Please fill the rota in the dashboard.",
        },
        "rota.primary": {"fr": "principal", "en": "primary"},
        "rota.backup": {"fr": "renfort", "en": "backup"},
        "rota.feed_mine": {"fr": "Astreinte ({position})", "en": "On call ({position})"},
        "rota.feed_team": {"fr": "Astreinte {position} : {name}", "en": "On call {position}: {name}"},
        "rota.feed_nobody": {"fr": "personne", "en": "nobody"},
        "rota.feed_name_mine": {"fr": "Mes astreintes · {name}", "en": "My on-call shifts · {name}"},
        "rota.feed_name_team": {"fr": "Planning d'astreinte", "en": "On-call rota"},
        "rota.feed_override": {"fr": "Remplacement : {reason}", "en": "Override: {reason}"},
        "health.gap_now": {
            "fr": "planning d'astreinte : personne pour le rôle « {role} » ({position}) en ce moment",
            "en": "rota: nobody in the role “{role}” ({position}) right now",
        },
        "health.gap_from": {
            "fr": "planning d'astreinte : personne pour le rôle « {role} » ({position}) à partir du {day} à {time}",
            "en": "rota: nobody in the role “{role}” ({position}) from {day} at {time}",
        },
        "health.no_org": {
            "fr": "aucun fichier d'organisation chargé : lancez `astreinte load examples/org.yaml`",
            "en": "no organisation file loaded: run `astreinte load examples/org.yaml`",
        },
    }
)


def position_word(position: str, lang: str) -> str:
    """ "principal" / "renfort" ("primary" / "backup"), as a sentence says it."""
    return text(f"rota.{position}", lang)
