"""The dashboard's words, French first: templates write French (`t("Journal des appels")`), keyed in
the catalogue by that French sentence (`ui:` + the sentence); codes stored in the database (outcomes,
reasons, statuses…) have labels (`label.<kind>.<code>`). All of it lives in the one catalogue."""

from __future__ import annotations

from datetime import date
from typing import Any

from words.catalogue import CATALOGUE, register

EN: dict[str, str] = {
    "Astreinte": "On-call desk",
    "Maintenant": "Now",
    "Journal des appels": "Call log",
    "Rota": "Rota",
    "Rapports": "Reports",
    "N° de requête": "Ticket no.",
    "Ouvrir": "Open",
    "Déconnexion": "Log out",
    "Heures en {tz}": "Times in {tz}",
    "Connexion": "Log in",
    "Tableau de bord des agents : appels de la nuit, astreintes, requêtes.": "Agents' dashboard: the night's calls, callouts, tickets.",
    "Nom": "Name",
    "Mot de passe": "Password",
    "Se connecter": "Log in",
    "Retour au tableau de bord": "Back to the dashboard",
    "Votre session a expiré : reconnectez-vous.": "Your session expired: please log in again.",
    "Formulaire expiré ou falsifié : rechargez la page.": "Expired or forged form: reload the page.",
    "Formulaire expiré : recommencez.": "Expired form: please try again.",
    "Nom ou mot de passe incorrect.": "Wrong name or password.",
    "Trop d'essais : réessayez dans un quart d'heure.": "Too many tries: try again in a quarter of an hour.",
    "Vous êtes déconnecté.": "You are logged out.",
    "Réservé aux administrateurs.": "Administrators only.",
    "Aucune requête n° {number}.": "No ticket no. {number}.",
    "Statut refusé : {reason}": "Status refused: {reason}",
    "Statut changé.": "Status changed.",
    "Note refusée : {reason}": "Note refused: {reason}",
    "Note ajoutée.": "Note added.",
    "Utilisateurs": "Users",
    "Rôle": "Role",
    "Langue": "Language",
    "Créé le": "Created on",
    "Dernier usage": "Last used",
    "Jetons de l'API": "API tokens",
    "Aucun jeton.": "No token.",
    "Ajouter un utilisateur : astreinte user add NOM --role agent|admin (mot de passe sur l'entrée standard).": "Add a user: astreinte user add NAME --role agent|admin (password on standard input).",
    "Créer un jeton : astreinte token create NOM ; le révoquer : astreinte token revoke NOM.": "Create a token: astreinte token create NAME; revoke it: astreinte token revoke NAME.",
    # pages and callouts
    "Heure": "Time",
    "Personne": "Person",
    "Canal": "Channel",
    "Statut": "Status",
    "SID Twilio": "Twilio SID",
    "erreur": "error",
    "Personne n'a encore été alerté.": "Nobody has been paged yet.",
    "Message vocal": "Voicemail",
    "enregistrement effacé": "recording deleted",
    "hors délai": "late",
    "Astreintes en cours": "Open callouts",
    "De garde": "On call",
    "renfort": "backup",
    "personne": "nobody",
    "Aucune astreinte en attente de prise en charge.": "No callout is waiting for a takeover.",
    "Requête": "Ticket",
    "reste {span}": "{span} left",
    "délai dépassé de {span}": "deadline missed by {span}",
    "échéance": "due",
    "escalade niveau {n}": "escalation level {n}",
    "message à": "message at",
    "rappeler le": "call back on",
    "Cette nuit": "Last night",
    "Message": "Message",
    "Client": "Client",
    "État": "State",
    "Pris en charge": "Taken over",
    "Délai": "Time to take over",
    "Aucune astreinte terminée ces dernières heures.": "No callout ended in the last hours.",
    # call log
    "Du": "From",
    "Au": "To",
    "Issue": "Outcome",
    "toutes": "all",
    "tous": "all",
    "Motif": "Reason",
    "Appelant": "Caller",
    "Filtrer": "Filter",
    "Tout afficher": "Show all",
    "Exporter en CSV": "Export as CSV",
    "Filtre invalide": "Invalid filter",
    "Durée": "Duration",
    "numéro saisi, inconnu": "number keyed, unknown",
    "Aucun appel ne correspond.": "No call matches.",
    "Plus récents": "Newest",
    "Plus anciens": "Older",
    "Nombre": "Count",
    "Page": "Page",
    # ticket
    "Prise en charge": "Takeover",
    "Résolution": "Resolution",
    "en 24/7": "24/7",
    "en heures ouvrées": "in business hours",
    "Fait le {at}": "Done on {at}",
    "en {span}": "in {span}",
    "Horloge arrêtée : attente client": "Clock stopped: client standby",
    "écoulé {span}": "{span} elapsed",
    "dépassé de {span}": "missed by {span}",
    "Détails": "Details",
    "sans option astreinte": "no on-call option",
    "Site": "Site",
    "Service": "Service",
    "hors astreinte": "not covered after hours",
    "Priorité": "Priority",
    "Ouverte le": "Opened on",
    "Description": "Description",
    "Contact": "Contact",
    "Délais (SLA)": "Deadlines (SLA)",
    "Priorité inconnue du fichier d'organisation : pas de délai.": "Priority unknown to the organisation file: no deadline.",
    "Attente client cumulée": "Total client standby",
    "Actions": "Actions",
    "Nouveau statut": "New status",
    "Statut actuel": "Current status",
    "Cette page n'existe pas.": "This page does not exist.",
    "remplacement": "override",
    "déjà principal : pas de renfort": "already primary: no backup",
    "Requête clôturée : son statut ne change plus.": "Closed ticket: its status no longer changes.",
    "Commentaire (facultatif)": "Comment (optional)",
    "Changer le statut": "Change status",
    "Note": "Note",
    "Ajouter la note": "Add the note",
    "Astreintes": "Callouts",
    "Message de {at}": "Message of {at}",
    "pris en charge par {who} à {at} ({via}), en {span}": "taken over by {who} at {at} ({via}), in {span}",
    "Appels": "Calls",
    "Historique": "Timeline",
    # rota
    "Rota d'astreinte": "On-call rota",
    "Aucun fichier d'organisation chargé.": "No organisation file loaded.",
    "Principal": "Primary",
    "Renfort": "Backup",
    "Escalade": "Escalation",
    "Niveau {n}": "Level {n}",
    "Les prochaines semaines": "The next weeks",
    "Remplacements": "Overrides",
    "Aucun remplacement à venir.": "No override ahead.",
    # reports
    "Rapport de {month}": "Report for {month}",
    "prises en charge dans le délai": "taken over in time",
    "astreintes dans le délai": "callouts in time",
    "délai médian": "median time to take over",
    "90e centile": "90th percentile",
    "appels refusés": "refused calls",
    "Prises en charge dans le délai, par mois": "Taken over in time, per month",
    "Par technicien": "Per technician",
    "Technicien": "Technician",
    "Prises en charge": "Takeovers",
    "Dans le délai": "In time",
    "Médiane": "Median",
    "Aucune prise en charge ce mois-ci.": "No takeover this month.",
    "Appels refusés par motif": "Refused calls by reason",
    "Aucun appel refusé ce mois-ci.": "No refused call this month.",
    "Délai médian de prise en charge par technicien": "Median time to take over per technician",
    "Une astreinte est dans le délai quand quelqu'un l'a prise en charge avant son échéance ; les "
    "astreintes annulées ne comptent pas. Délais mesurés du message à la prise en charge.": "A callout is in time when someone took it over before it was due; cancelled callouts do not "
    "count. Times run from the message to the takeover.",
}

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "outcome": {
        "in_progress": ("en cours", "in progress"),
        "forwarded": ("transféré au service client", "forwarded to the desk"),
        "desk_message": ("message pour le service client", "message for the desk"),
        "voicemail": ("message d'astreinte", "on-call message"),
        "refused": ("refusé", "refused"),
        "abandoned": ("abandonné", "abandoned"),
    },
    "reason": {
        "unknown_ticket": ("requête inconnue", "unknown ticket"),
        "ticket_closed": ("requête clôturée", "ticket closed"),
        "bad_pin": ("code PIN erroné", "wrong PIN"),
        "locked": ("code PIN bloqué", "PIN locked"),
        "no_astreinte_option": ("client sans option astreinte", "client without the on-call option"),
        "service_not_covered": ("service hors astreinte", "service not covered after hours"),
        "priority_waits": ("priorité traitée en heures ouvrées", "priority waits for business hours"),
        "no_input": ("aucune saisie", "no input"),
        "no_callback_number": ("pas de numéro de rappel", "no callback number"),
        # an abandoned call's reason is the IVR step where the caller hung up
        "start": ("raccroché dès l'accueil", "hung up at once"),
        "greeting": ("raccroché à l'accueil", "hung up at the greeting"),
        "ticket": ("raccroché au numéro de requête", "hung up at the ticket number"),
        "ticket_confirm": ("raccroché à la relecture de la requête", "hung up at the ticket read-back"),
        "pin": ("raccroché au code PIN", "hung up at the PIN"),
        "callback": ("raccroché au numéro de rappel", "hung up at the callback number"),
        "callback_key": ("raccroché à la saisie du rappel", "hung up keying the callback number"),
        "callback_confirm": ("raccroché à la relecture du rappel", "hung up at the callback read-back"),
        "record": ("raccroché avant le message", "hung up before the message"),
        "message_confirm": ("raccroché après le message", "hung up after the message"),
        "desk": ("raccroché pendant le transfert", "hung up while forwarded"),
    },
    "status": {
        "open": ("ouverte", "open"),
        "in_progress": ("en cours", "in progress"),
        "client_standby": ("attente client", "client standby"),
        "resolved": ("résolue", "resolved"),
        "closed": ("clôturée", "closed"),
    },
    "channel": {"sms": ("SMS", "SMS"), "voice": ("appel", "call"), "web": ("web", "web")},
    "via": {"sms": ("SMS", "SMS"), "voice": ("appel", "call"), "web": ("lien", "link")},  # a takeover
    "page_status": {
        "queued": ("en file", "queued"),
        "sending": ("envoi", "sending"),
        "sent": ("envoyé", "sent"),
        "delivered": ("remis", "delivered"),
        "undelivered": ("non remis", "undelivered"),
        "failed": ("échec", "failed"),
        "initiated": ("lancé", "initiated"),
        "ringing": ("sonne", "ringing"),
        "in-progress": ("en ligne", "in progress"),
        "answered": ("décroché", "answered"),
        "completed": ("terminé", "completed"),
        "busy": ("occupé", "busy"),
        "no-answer": ("sans réponse", "no answer"),
        "canceled": ("annulé", "canceled"),
        "machine": ("répondeur", "answering machine"),
        "throttled": ("différé (cadence)", "throttled"),
        "outbox": ("boîte locale", "local outbox"),
        "bundled": ("groupé", "bundled"),
        "stale": ("périmé", "stale"),
        "declined": ("refusé", "declined"),
    },
    "callout": {
        "paging": ("alerte en cours", "paging"),
        "taken_over": ("pris en charge", "taken over"),
        "cancelled": ("annulée", "cancelled"),
    },
    "role": {
        "agent": ("agent", "agent"),
        "admin": ("administrateur", "administrator"),
        "supervisor": ("superviseur", "supervisor"),
        "manager": ("responsable", "manager"),
        "director": ("directeur", "director"),
    },
    "position": {"primary": ("principal", "primary"), "backup": ("renfort", "backup")},
    "notify": {  # who a policy step notifies
        "primary": ("astreinte principale", "primary on-call"),
        "backup": ("astreinte de secours", "backup on-call"),
        "supervisor": ("superviseur", "supervisor"),
        "manager": ("responsable", "manager"),
        "director": ("directeur", "director"),
    },
    "priority": {"high": ("Élevée", "High"), "medium": ("Moyenne", "Medium"), "low": ("Faible", "Low")},
    "actor": {  # who wrote an event, when it is not a person
        "organisation file": ("fichier d'organisation", "organisation file"),
        "portail client": ("portail client", "client portal"),
    },
    "event": {
        "opened": ("ouverture", "opened"),
        "call": ("appel", "call"),
        "voicemail": ("message", "voicemail"),
        "callout": ("astreinte", "callout"),
        "page": ("alerte", "page"),
        "takeover": ("prise en charge", "takeover"),
        "escalation": ("escalade", "escalation"),
        "status": ("statut", "status"),
        "note": ("note", "note"),
        "sms": ("SMS", "SMS"),
        "breach": ("dépassement", "breach"),
        "decline": ("refus", "declined"),
        "cancelled": ("annulation", "cancelled"),
        "page_failed": ("alerte en échec", "page failed"),
        "page_error": ("erreur d'alerte", "page error"),
        "gap": ("rota incomplète", "rota gap"),
        "caller_sms": ("SMS au client", "SMS to the caller"),
        "desk_message": ("message au service client", "message for the desk"),
    },
    "http": {
        "400": ("Demande invalide", "Bad request"),
        "403": ("Accès refusé", "Forbidden"),
        "404": ("Introuvable", "Not found"),
        "405": ("Méthode non permise", "Method not allowed"),
        "500": ("Erreur interne", "Internal error"),
    },
}

MONTHS = {
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
WEEKDAYS = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
DAYS = {
    "fr": ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


register({f"ui:{fr}": {"fr": fr, "en": en} for fr, en in EN.items()})
register(
    {
        f"label.{kind}.{code}": {"fr": fr, "en": en}
        for kind, codes in LABELS.items()
        for code, (fr, en) in codes.items()
    }
)


def t(text: str, lang: str = "fr", **values: Any) -> str:
    """The French `text` in `lang`, with `{name}` placeholders filled (as it is when not catalogued)."""
    entry = CATALOGUE.get(f"ui:{text}")
    if entry is not None:
        text = entry.get(lang, text)
    return text.format(**values) if values else text


def label(kind: str, value: str | None, lang: str = "fr") -> str:
    """A stored code as people read it; an unknown code shows as it is."""
    if value is None:
        return ""
    entry = CATALOGUE.get(f"label.{kind}.{value}")
    if entry is None:
        return str(value)
    return entry.get(lang, entry["fr"])


def month_name(month: date, lang: str = "fr") -> str:
    return f"{MONTHS[lang][month.month - 1]} {month.year}"
