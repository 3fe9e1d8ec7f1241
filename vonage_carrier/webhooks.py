"""Vonage's webhooks, each signature-checked with VONAGE_SIGNATURE_SECRET (403 otherwise; no secret set,
every request is refused): a technician's SMS reply (`OK 104233` takes over, as on Twilio's number), and
the page call: its words (an NCCO), the key pressed (1 takes over) and the call's events.

SMS webhooks carry `sig`, an HMAC of their sorted parameters and a timestamp (refused when older than
five minutes: a replay); Voice webhooks carry a JWT signed with the same secret whose `payload_hash`
is the SHA-256 of the body and whose `iat` is recent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import jwt
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import select
from vonage import Auth

import clock
from models import Callout, CalloutState, Channel, InboundSms, Page, session
from oncall import outbox, paging
from oncall.paging import alert_of
from oncall.sending import SendError, send_sms
from oncall.takeover import answer_sms, person_by_phone, reply_text, take_over
from org.load import current_org
from org.phones import parse_phone
from words.catalogue import digits, text
from words.pages import spoken_alert

log = logging.getLogger(__name__)

bp = Blueprint("vonage", __name__, url_prefix="/vonage")

MAX_AGE = 300  # seconds: a signed request older than this is a replay
MAX_FIELDS = 40


def _secret() -> str:
    secret = current_app.config.get("VONAGE_SIGNATURE_SECRET") or ""
    if len(secret) < 16:
        abort(403, "Vonage webhooks are refused until VONAGE_SIGNATURE_SECRET is set")
    return secret


def _signed_sms() -> dict[str, str]:
    """The inbound SMS's parameters, their `sig` checked (403 otherwise)."""
    source = request.form if request.form else request.args
    if len(source) > MAX_FIELDS:
        abort(403, "too many fields for a signed request")
    params = {k: v for k, v in source.items()}
    if not params.get("sig") or not params.get("timestamp", "").isdigit():
        abort(403, "unsigned request")
    if abs(clock.now().timestamp() - int(params["timestamp"])) > MAX_AGE:
        abort(403, "stale signature")
    method = current_app.config.get("VONAGE_SIGNATURE_METHOD") or "sha256"
    auth = Auth(api_key="webhooks", signature_secret=_secret(), signature_method=method)
    if not auth.check_signature(dict(params)):
        abort(403, "bad signature")
    return params


def _signed_voice() -> dict[str, Any]:
    """A Voice webhook's JSON body, its JWT checked (403 otherwise)."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    if not token:
        abort(403, "unsigned request")
    try:
        claims = jwt.decode(token, _secret(), algorithms=["HS256"], options={"require": ["iat"]})
    except jwt.PyJWTError:
        abort(403, "bad signature")
    body = request.get_data()
    if not hmac.compare_digest(str(claims.get("payload_hash", "")), hashlib.sha256(body).hexdigest()):
        abort(403, "the body is not the one signed")
    if abs(clock.now().timestamp() - float(claims["iat"])) > MAX_AGE:
        abort(403, "stale signature")
    data = request.get_json(silent=True) if body else {}
    return data if isinstance(data, dict) else {}


@bp.post("/sms")
def inbound_sms() -> Response:
    """A technician's reply on Vonage's number; the answer goes back by SMS through the outbox."""
    params = _signed_sms()
    sid = (params.get("messageId") or "")[:64]
    if not sid:
        abort(400, "messageId missing")
    if session.scalar(select(InboundSms.id).where(InboundSms.sid == sid)) is not None:
        return Response(status=204)  # Vonage retried: handled once
    try:
        number = parse_phone("+" + params.get("msisdn", "").lstrip("+"), current_org().region)
    except ValueError:
        number = params.get("msisdn", "")[:32]
    body = params.get("text", "")[:2000]
    person = person_by_phone(number)
    row = InboundSms(sid=sid, from_number=number, body=body, person_id=person.id if person else None)
    session.add(row)
    session.commit()
    if person is None:
        row.outcome = "unknown_sender"
        session.commit()
        return Response(status=204)
    reply = answer_sms(person, body)
    row.outcome = reply.kind
    try:
        send_sms(person.phone, reply_text(reply, person), kind="sms_reply", person_id=person.id)
    except SendError as exc:
        log.warning("the answer to %s's SMS could not be sent: %s", person.id, exc)
    session.commit()
    return Response(status=204)


def _page() -> Page:
    page = session.get(Page, request.args.get("page", 0, type=int))
    if page is None or page.channel is not Channel.VOICE:
        abort(404, "unknown page")
    return page


def _talk(text_: str, lang: str) -> dict[str, Any]:
    return {"action": "talk", "text": text_, "language": "fr-FR" if lang == "fr" else "en-GB"}


@bp.post("/pages/answer")
def answer() -> Response:
    """The page call's words: who, what, how long is left, and 1 to take over."""
    _signed_voice()
    page = _page()
    lang, callout = page.person.language, page.callout
    if callout.state is not CalloutState.PAGING:
        return jsonify([_talk(text("page_goodbye", lang), lang)])
    org = current_org()
    alert = alert_of(callout, lang, org)
    said = " ".join(
        [
            text("page_hello", lang, name=page.person.first_name),
            *spoken_alert(lang, alert, clock.now()),
            text("page_press_1", lang),
        ]
    )
    key_url = current_app.config["PUBLIC_BASE_URL"] + f"/vonage/pages/key?page={page.id}"
    return jsonify(
        [
            {**_talk(said, lang), "bargeIn": True},
            {
                "action": "input",
                "type": ["dtmf"],
                "dtmf": {"maxDigits": 1, "timeOut": 6},
                "eventUrl": [key_url],
                "eventMethod": "POST",
            },
        ]
    )


@bp.post("/pages/key")
def key() -> Response:
    """The key the technician pressed in the page call: 1 takes over."""
    data = _signed_voice()
    page = _page()
    lang = page.person.language
    dtmf = data.get("dtmf")
    pressed = str(dtmf.get("digits") or "")[:4] if isinstance(dtmf, dict) else ""
    if pressed != "1":
        return jsonify([_talk(text("page_goodbye", lang), lang)])
    callout = session.get(Callout, page.callout_id)
    assert callout is not None
    result = take_over(callout, page.person, Channel.VOICE)
    session.commit()
    if result.won or (result.by is not None and result.by.id == page.person_id):
        said = text("page_taken", lang, ticket=digits(callout.ticket.number, lang))
    else:
        said = text("page_goodbye", lang)
    return jsonify([_talk(said, lang)])


# Vonage's call statuses, in Twilio's words where the page's status keeps them.
_STATUSES = {"unanswered": "no-answer", "timeout": "no-answer", "rejected": "busy", "machine": "machine"}


@bp.post("/events")
def events() -> Response:
    """The page call's events (started, ringing, answered, completed, busy, failed, unanswered…)."""
    data = _signed_voice()
    uuid = str(data.get("uuid") or "")[:64]
    status = _STATUSES.get(str(data.get("status") or ""), str(data.get("status") or "")[:24])
    if not uuid or not status:
        return Response(status=204)
    pages = list(session.scalars(select(Page).where(Page.twilio_sid == uuid)))
    if pages:
        outbox.note(uuid, status)
    for page in pages:
        paging.note_status(page, status)
    session.commit()
    return Response(status=204)
