"""SMS on the support number: a technician's reply (`OK 104233` takes over), and page SMS statuses.

Unknown senders get nothing (an empty answer) and are logged; every SMS is kept in `inbound_sms`.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from models import InboundSms, session
from oncall.takeover import answer_sms, person_by_phone, reply_text
from org.load import current_org
from org.phones import parse_phone
from voice.delivery import record_status
from voice.security import form_value, twilio_request
from voice.twiml import twiml

log = logging.getLogger(__name__)

# Twilio answers these itself (opt-out, opt-in, help): a second answer from us would confuse, so none.
CARRIER_KEYWORDS = {
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "ARRÊT",
    "START", "UNSTOP", "YES", "HELP", "INFO",
}  # fmt: skip


def is_carrier_keyword(body: str) -> bool:
    return (body or "").strip().strip(".!").upper() in CARRIER_KEYWORDS


bp = Blueprint("sms", __name__, url_prefix="/sms")


def _sender(raw: str) -> str:
    try:
        return parse_phone(raw, current_org().region)
    except ValueError:
        return raw


@bp.post("/incoming")
@twilio_request
def incoming() -> object:
    sid = form_value("MessageSid", 64) or form_value("SmsSid", 64)
    if not sid:
        abort(400, "MessageSid missing")
    if session.scalar(select(InboundSms.id).where(InboundSms.sid == sid)) is not None:
        return twiml(MessagingResponse())  # Twilio retried: it was handled once
    number = _sender(form_value("From", 32))
    body = form_value("Body", 2000)
    person = person_by_phone(number)
    row = InboundSms(sid=sid, from_number=number, body=body[:2000], person_id=person.id if person else None)
    session.add(row)
    session.commit()
    if person is None:
        log.info("SMS from an unknown number %s…: no answer", number[:6])
        row.outcome = "unknown_sender"
        session.commit()
        return twiml(MessagingResponse())
    if is_carrier_keyword(body):
        log.warning("%s sent the carrier keyword %r: no answer from us", person.id, body.strip())
        row.outcome = "keyword"
        session.commit()
        return twiml(MessagingResponse())
    reply = answer_sms(person, body)
    stored = session.get(InboundSms, row.id)
    assert stored is not None
    stored.outcome = reply.kind
    session.commit()
    r = MessagingResponse()
    r.message(reply_text(reply, person))
    return twiml(r)


@bp.post("/status")
@twilio_request
def status() -> object:
    """Twilio's message status callback: MessageStatus, ErrorCode (idempotent)."""
    sid = form_value("MessageSid", 64) or form_value("SmsSid", 64)
    if not sid:
        abort(400, "MessageSid missing")
    record_status(
        sid,
        form_value("MessageStatus", 24) or form_value("SmsStatus", 24),
        None,
        form_value("ErrorCode"),
    )
    return twiml(MessagingResponse())
