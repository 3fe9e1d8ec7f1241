"""When every host was down, Twilio played the support number's fallback (deploy/twilio/fallback.xml),
which records the caller. The recordings are found at Twilio afterwards: when the worker starts, from
its sweeper every few minutes, and at once when the fallback's recording callback reaches a host that
answers. `oncall.fallback` keeps and pages them, once each.

REST as Twilio's API description has it: the Recordings list filtered by `DateCreated>` (the last
FALLBACK_LOOKBACK_HOURS), then the Call of each recording astreinte does not hold, for its From and To.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from flask import Blueprint, Response, current_app
from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import VoiceResponse

import clock
import tasks
from oncall.fallback import Recorded, already_kept, keep_message
from org.load import current_org
from tickets.calls import seconds
from voice import sender as outbound
from voice.security import form_value, twilio_request
from voice.twiml import twiml

log = logging.getLogger(__name__)

RECOVER_JOB = "recover_fallback_messages"
PAGE_SIZE = 200  # recordings per REST page (Twilio allows 1 to 1000)
TWILIO_API = "https://api.twilio.com"  # what a recording's `uri` is relative to

bp = Blueprint("fallback", __name__)


@tasks.job(RECOVER_JOB, coalesce=True)
def recover_messages(now: datetime | None = None) -> int:
    """Keep and page every message the fallback recorded within the lookback that astreinte does not
    hold yet; returns how many. Nothing to ask in local-outbox mode (no Twilio account)."""
    app = current_app
    if app.config["TWILIO_OUTBOX"]:
        return 0
    since = (now or clock.now()) - timedelta(hours=int(app.config["FALLBACK_LOOKBACK_HOURS"]))
    account = outbound._client().api.v2010.account
    try:
        listed = account.recordings.list(date_created_after=since, page_size=PAGE_SIZE)
    except (TwilioException, requests.RequestException) as exc:
        log.warning("recordings made while astreinte was away not listed: %s", type(exc).__name__)
        return 0
    finished = [r for r in listed if r.status == "completed" and r.call_sid and r.sid]
    known = already_kept([r.sid for r in finished])
    support = current_org().support_number
    kept = 0
    for r in finished:
        if r.sid in known:
            continue
        try:
            call = account.calls(r.call_sid).fetch()
        except (TwilioException, requests.RequestException) as exc:
            log.warning("the call of recording %s not read: %s", r.sid, type(exc).__name__)
            continue
        if call.direction != "inbound" or call.to != support:
            continue  # a page call, or another number of the account: not the support line's message
        at = r.start_time or r.date_created or clock.now()
        media = r.media_url or (TWILIO_API + r.uri.removesuffix(".json") if r.uri else "")
        recorded = Recorded(
            r.sid, r.call_sid, call._from or "", call.to or "", media, seconds(r.duration), at
        )
        if keep_message(recorded) is not None:
            kept += 1
    if kept:
        log.warning("%d message(s) recorded by the fallback while astreinte was away: kept and paged", kept)
    return kept


@bp.post("/voice/fallback/recording")
@twilio_request
def recording() -> Response:
    """The fallback's recordingStatusCallback: a host that answers it looks the message up at once
    (the callback carries no caller number; the recovery reads it from the call)."""
    if form_value("RecordingStatus", 20) == "completed":
        tasks.enqueue(RECOVER_JOB)
    return twiml(VoiceResponse())
