"""The caller's side of live connect in TwiML: what they hear, then one `<Dial>` per level of the chain.

Each level is one `<Dial>` with one `<Number url=…>`: the url is the whisper the technician hears
before the two are put through (`voice/live.py`), and the `<Dial>` action decides what comes next.
The support number is the caller ID both ways: the technician's phone shows it, and the caller, who
called it, never learns the technician's number.
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from models import Call
from oncall.links import absolute_url
from oncall.live import Level
from org.orgfile import Org
from voice.answers import retention_days
from voice.twiml import say

# The ringback tones Twilio plays (TwiML <Dial ringTone>): the caller hears their own country's ring.
RING_TONES = frozenset(
    "at au be bg br ch cl cn cz de dk ee es fi fr gr hu il in it jp lt mx my nl no nz ph pl pt ru se sg th tw "
    "uk us ve za".split()
)


def ring_tone(region: str) -> str:
    tone = "uk" if region == "GB" else region.lower()
    return tone if tone in RING_TONES else "us"


def dial(call: Call, org: Org, level: Level, n: int) -> VoiceResponse:
    """Tell the caller we are calling (the first level, or the backup), then ring `level`."""
    assert org.live_connect is not None
    r = VoiceResponse()
    if level.index == 0:
        say(r, "live.calling", call.language)
        if org.live_connect.record:
            say(r, "live.recorded", call.language, days=retention_days())
    else:
        say(r, "live.calling_next", call.language)
    extra: dict[str, str] = {}
    if org.live_connect.record:  # only when the organisation file asks; the notice was said first
        extra = {
            "record": "record-from-answer-dual",
            "recording_status_callback": absolute_url("live.recording", call=call.id),
            "recording_status_callback_method": "POST",
        }
    d = r.dial(
        action=absolute_url("live.dialled", n=n, level=level.index),
        method="POST",
        timeout=int(org.live_connect.ring.total_seconds()),
        caller_id=org.support_number,
        answer_on_bridge=True,
        ring_tone=ring_tone(org.region),
        **extra,
    )
    d.number(
        level.person.phone,
        url=absolute_url("live.whisper", call=call.id, level=level.index),
        method="POST",
    )
    return r
