"""The supervisor told of a PIN lock: a number locked out of a client account, or an account locked
for strangers, is someone guessing (or a client in trouble), and somebody should know tonight. So are
repeated wrong PINs behind one of the client's own numbers, which are never locked."""

from __future__ import annotations

import logging

from models import Call, session
from oncall import policy
from oncall.sending import text_once
from tasks import job
from tickets.calls import caller_number
from words.catalogue import register, text

log = logging.getLogger(__name__)

register(
    {
        "pin_locked_sms": {
            "fr": "Astreinte : code PIN de {client} ({account}) verrouillé après des erreurs répétées, "
            "appel du {number}. Si ce n'est pas le client, quelqu'un essaie de deviner son code.",
            "en": "On call: the PIN of {client} ({account}) is locked after repeated wrong entries, "
            "call from {number}. If it was not the client, someone is guessing their PIN.",
        },
        "pin_guessed_sms": {
            "fr": "Astreinte : codes PIN faux répétés pour {client} ({account}) depuis {number}, un numéro du "
            "client (jamais verrouillé). Si ce n'est pas le client, quelqu'un devine son code derrière son numéro.",
            "en": "On call: repeated wrong PINs for {client} ({account}) from {number}, one of the client's "
            "numbers (never locked). If it was not the client, someone is guessing behind their number.",
        },
        "pin_withheld": {"fr": "numéro masqué", "en": "a withheld number"},
    }
)


@job("tell_of_pin_lock")
def tell_of_pin_lock(call_id: int, locked: bool = True) -> None:
    """Job: text the supervisor that this call's wrong PINs set a lock (or, `locked=False`, filled the
    watch on one of the client's own numbers), once per call; the outbox tries it again on failure."""
    call = session.get(Call, call_id)
    if call is None or call.client is None:
        return
    supervisor = policy.supervisor_to_tell()
    if supervisor is None:
        log.warning("PIN lock on %s: no supervisor to tell", call.client.account)
        return
    lang = supervisor.language
    number = caller_number(call) or text("pin_withheld", lang)
    body = text(
        "pin_locked_sms" if locked else "pin_guessed_sms",
        lang,
        client=call.client.name,
        account=call.client.account,
        number=number,
    )
    text_once("pin_lock", supervisor.phone, body, f"pin_lock:{call.id}", supervisor.id)
