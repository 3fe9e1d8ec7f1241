"""The call log of the support number: one `Call` row per call id, its outcome, its voicemail.

No TwiML and no request here: the webhooks of `voice/` pass plain values. Every function is
idempotent on the carrier's ids, because Twilio retries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

import clock
import tasks
from models import Call, CallOutcome, Client, RefusalReason, Ticket, Voicemail, VoicemailKind, session
from org.load import CHECKSUM_COLUMN, checksum_read, current_org
from org.phones import e164, parse_number
from tickets.timeline import add_event

FORGET_MEDIA_JOB = "forget_media"  # registered by voice/retention.py: the carrier forgets a recording


def seconds(raw: str | None) -> int | None:
    """A duration Twilio sent ("20"), or None when it is missing or not a sensible number of seconds
    (a column holds at most a 32-bit integer: a forged "99999999999" must not lose the row)."""
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return None
    return int(raw)


# Built once: every webhook asks. The organisation's checksum comes along (one round trip, not two).
_CALL_BY_SID = select(Call, CHECKSUM_COLUMN).where(Call.sid == bindparam("sid"))
# The PIN step reads the ticket, its service, the client and its contacts: two statements, not five.
_CALL_WITH_TICKET = _CALL_BY_SID.options(
    joinedload(Call.ticket).joinedload(Ticket.service),
    joinedload(Call.client).selectinload(Client.contacts),
)

# The message's steps (recorded, sent, the recording's callback) read its voicemail and ticket.
_CALL_WITH_MESSAGE = _CALL_BY_SID.options(joinedload(Call.voicemail), joinedload(Call.ticket))


def find_call(sid: str, with_ticket: bool = False, with_message: bool = False) -> Call | None:
    """The call of this id; `with_ticket`: with its ticket and client loaded along (the PIN step);
    `with_message`: with its voicemail and ticket."""
    query = _CALL_WITH_TICKET if with_ticket else _CALL_WITH_MESSAGE if with_message else _CALL_BY_SID
    row = session.execute(query, {"sid": sid}).first()
    if row is None:
        return None
    checksum_read(row[1])
    return row[0]  # type: ignore[no-any-return]


def new_call(sid: str, from_number: str, to_number: str, after_hours: bool) -> Call:
    """The row of a call not seen yet, added to the session: written with the request's answer (one
    INSERT). Two requests of the same call at the same instant: the second one's commit fails on the
    unique call id."""
    call = Call(
        sid=sid,
        from_number=from_number[:32],
        to_number=to_number[:32],
        started_at=clock.now(),
        after_hours=after_hours,
        outcome=CallOutcome.IN_PROGRESS,
        status="in-progress",
        language="fr",  # the column defaults, read before the INSERT (the greeting)
        step="start",
        tries=0,
        state={},
    )
    session.add(call)
    return call


def log_call(sid: str, from_number: str, to_number: str, after_hours: bool) -> Call:
    """The row of this call, created and committed once (the carrier may send the same call twice)."""
    call = find_call(sid)
    if call is not None:
        return call
    call = new_call(sid, from_number, to_number, after_hours)
    try:
        session.commit()
    except IntegrityError:  # the same call id, at the same time, from a retry
        session.rollback()
        existing = find_call(sid)
        assert existing is not None
        return existing
    return call


def remember(call: Call, **values: Any) -> None:
    """Update the IVR scratch (a JSON column: reassigned, never mutated in place)."""
    call.state = {**(call.state or {}), **values}


def recall(call: Call, key: str, default: Any = None) -> Any:
    return (call.state or {}).get(key, default)


# --- phone numbers ------------------------------------------------------------------------------


def caller_number(call: Call) -> str | None:
    """The caller ID in E.164, or None when it is withheld or not a valid number."""
    number = parse_number(call.from_number, current_org().region)
    return e164(number) if number is not None else None


# --- outcomes -----------------------------------------------------------------------------------


def refuse(call: Call, reason: RefusalReason) -> None:
    call.outcome, call.reason = CallOutcome.REFUSED, reason.value
    if call.ticket is not None:
        add_event(
            call.ticket,
            "call",
            actor=call.from_number,
            data={"call": call.id, "reason": reason.value, "number": call.from_number},
        )


# --- voicemails ---------------------------------------------------------------------------------


def keep_recording(
    call: Call, sid: str, url: str | None, duration: str | None, status: str | None = None
) -> Voicemail | None:
    """The call's message is this recording (from the Record action or the recording callback,
    whichever comes first). A newer recording replaces an older one ("2: record again")."""
    if sid in recall(call, "replaced", []):
        return None  # a late callback for a message the caller recorded again
    voicemail = call.voicemail
    length = seconds(duration)
    if voicemail is None:
        voicemail = Voicemail(
            call=call,
            kind=VoicemailKind.ASTREINTE if call.after_hours else VoicemailKind.DESK,
            recorded_at=clock.now(),
        )
        session.add(voicemail)
    elif voicemail.recording_sid and voicemail.recording_sid != sid:
        if call.outcome in (CallOutcome.VOICEMAIL, CallOutcome.DESK_MESSAGE):
            return voicemail  # already delivered: a recording after that changes nothing
        remember(call, replaced=[*recall(call, "replaced", []), voicemail.recording_sid])
        tasks.enqueue(FORGET_MEDIA_JOB, voicemail.recording_sid, voicemail.recording_url or "")
        voicemail.recorded_at = clock.now()
        voicemail.duration = None
        voicemail.recording_status = None
    voicemail.recording_sid = sid
    if url:
        voicemail.recording_url = url[:500]
    if length is not None:
        voicemail.duration = length
    if status:
        voicemail.recording_status = status[:20]
    voicemail.ticket_id = call.ticket_id
    session.flush()
    return voicemail
