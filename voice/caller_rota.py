"""A technician calling the support number from their own phone at night: who is on call tonight,
then goodbye (no PIN). Anyone else goes on to the desk or the IVR and hears nothing of the rota."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

import clock
from models import Call
from oncall.tonight import on_call_tonight, technician_calling
from org.orgfile import Org
from voice.answers import kept, next_seq
from voice.twiml import say
from words.catalogue import text


def technician_rota(call: Call, org: Org) -> VoiceResponse | None:
    """For a known technician's own number: who holds each position tonight, then goodbye. None for
    anyone else."""
    person = technician_calling(org, call.from_number)
    if person is None:
        return None
    call.language = person.language if person.language in org.languages else call.language
    call.step = "technician"
    next_seq(call)
    on_call = on_call_tonight(org, clock.now())
    nobody = text("caller.rota_nobody", call.language)

    def name(pid: str | None) -> str:
        entry = org.people.get(pid) if pid else None
        return entry.name if entry else nobody

    r = VoiceResponse()
    say(
        r,
        "caller.rota_tonight",
        call.language,
        name=person.first_name,
        primary=name(on_call.primary),
        backup=name(on_call.backup),
    )
    say(r, "caller.rota_goodbye", call.language)
    r.hangup()
    return kept(call, r)
