"""The call log of the support number: one `Call` row per CallSid, its outcome, its voicemail.

No TwiML here and no request: the routes of `voice/caller.py` pass plain values. Every function is
idempotent on Twilio's SIDs, because Twilio retries.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import clock
import tasks
from models import Call, Callout, CallOutcome, RefusalReason, Voicemail, VoicemailKind, session
from oncall.load import current_org
from tickets.timeline import add_event
from voice import outbound
from voice.prompts import digits, text
from voice.prompts_caller import clock_time

log = logging.getLogger(__name__)

FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
WITHHELD = {
    "",
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "+266696687",
    "+2562533",
    "+86282452253",
    "+8656696",
}  # what Twilio puts in From for a hidden caller ID


def seconds(raw: str | None) -> int | None:
    """A duration Twilio sent ("20"), or None when it is missing or not a sensible number of seconds
    (a column holds at most a 32-bit integer: a forged "99999999999" must not lose the row)."""
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return None
    return int(raw)


def find_call(sid: str) -> Call | None:
    return session.scalar(select(Call).where(Call.sid == sid))


def log_call(sid: str, from_number: str, to_number: str, after_hours: bool) -> Call:
    """The row of this call, created and committed once (Twilio may send the same CallSid twice)."""
    call = find_call(sid)
    if call is not None:
        return call
    call = Call(
        sid=sid,
        from_number=from_number[:32],
        to_number=to_number[:32],
        started_at=clock.now(),
        after_hours=after_hours,
        outcome=CallOutcome.IN_PROGRESS,
        step="start",
        tries=0,
        state={},
    )
    session.add(call)
    try:
        session.commit()
    except IntegrityError:  # the same CallSid, at the same time, from a retry
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


def parse_number(raw: str | None, region: str) -> phonenumbers.PhoneNumber | None:
    """A valid phone number from what a caller keyed or what Twilio sent, or None."""
    if not raw or raw.strip().lower() in WITHHELD:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def spoken_number(raw: str, region: str, lang: str) -> str:
    """A phone number read digit by digit, as the caller knows it: "0 6 1 1 2 2 3 3 4 4"."""
    number = parse_number(raw, region)
    if number is None:
        return digits(raw, lang)
    if phonenumbers.region_code_for_number(number) == region:
        return digits(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), lang)
    return "+ " + digits(e164(number), lang)


def is_mobile(raw: str | None, region: str) -> bool:
    number = parse_number(raw, region)
    return number is not None and phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


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
            f"appel refusé ({reason.value}) depuis {call.from_number}",
            actor=call.from_number,
            data={"call": call.id, "reason": reason.value},
        )


def end_call(call: Call, status: str, duration: str | None) -> None:
    """Twilio's status callback: duration and end; a call still in progress was abandoned at its step."""
    call.status = status[:20] or call.status
    if status not in FINAL_STATUSES:
        return
    if (elapsed := seconds(duration)) is not None:
        call.duration = elapsed
    if call.ended_at is None:
        call.ended_at = clock.now()
    session.commit()  # the end is kept even if delivering the message fails below
    if call.outcome is CallOutcome.IN_PROGRESS:
        if deliver(call) is None:
            call.outcome, call.reason = CallOutcome.ABANDONED, call.step


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
        from voice.retention import forget_media

        tasks.enqueue(forget_media, voicemail.recording_sid, voicemail.recording_url or "")
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


def deliver(call: Call) -> Voicemail | None:
    """The caller's message is final: after hours it opens the callout, in business hours it waits
    for the desk. Returns the voicemail, or None when the call has no message (yet). Once only."""
    voicemail = call.voicemail
    if voicemail is None or not voicemail.recording_sid:
        return None
    if call.outcome in (CallOutcome.VOICEMAIL, CallOutcome.DESK_MESSAGE):
        return voicemail
    voicemail.callback_number = call.callback_number or caller_number(call)
    session.commit()  # never lost: kept even if the callout fails to open (a later callback retries)
    if not call.after_hours or call.ticket is None:
        voicemail.kind = VoicemailKind.DESK
        call.outcome, call.reason = CallOutcome.DESK_MESSAGE, None
        session.commit()
        return voicemail
    from oncall.callouts import open_callout, start_paging

    ticket = call.ticket
    call.outcome, call.reason = CallOutcome.VOICEMAIL, None
    voicemail.kind, voicemail.ticket_id = VoicemailKind.ASTREINTE, ticket.id
    add_event(
        ticket,
        "voicemail",
        f"message vocal de {voicemail.duration or 0} s, "
        f"rappel au {voicemail.callback_number or 'numéro masqué'}",
        actor=call.from_number,
        data={"call": call.id, "voicemail": voicemail.id},
    )
    callout = open_callout(voicemail)
    session.commit()
    try:
        start_paging(callout.id)
    except Exception:  # the message is kept and the callout open: the sweeper pages
        session.rollback()
        log.exception("paging of callout %s did not start; the sweeper will", callout.id)
    if receipt_number(call):
        tasks.enqueue(send_receipt, call.id)
    return voicemail


def receipt_number(call: Call) -> str | None:
    """Where the SMS receipt goes: the callback number or the caller ID, when it is a mobile."""
    region = current_org().region
    for raw in (call.callback_number, call.from_number):
        if is_mobile(raw, region):
            number = parse_number(raw, region)
            assert number is not None
            return e164(number)
    return None


def send_receipt(call_id: int) -> None:
    """Job: the SMS receipt of a delivered message, once."""
    call = session.get(Call, call_id)
    if call is None or call.outcome is not CallOutcome.VOICEMAIL or recall(call, "receipt"):
        return
    to = receipt_number(call)
    callout = (
        session.scalar(select(Callout).where(Callout.voicemail_id == call.voicemail.id))
        if call.voicemail is not None
        else None
    )
    if to is None or call.ticket is None or callout is None:
        return
    tz = current_org().timezone
    body = text(
        "caller.sms.receipt",
        call.language,
        number=call.ticket.number,
        time=clock_time(callout.opened_at.astimezone(tz)),
        due=clock_time(callout.due_at.astimezone(tz)),
    )
    try:
        sent = outbound.send_sms(to, body)
    except outbound.OutboundError as exc:
        log.warning("SMS receipt of call %s not sent: %s", call.id, exc)
        tries = recall(call, "receipt_tries", 0) + 1
        remember(call, receipt_tries=tries)
        if not exc.temporary or tries >= RECEIPT_MAX_TRIES:
            remember(call, receipt=f"failed {exc.code or ''}".strip())  # the sweeper stops trying
        session.commit()
        return
    remember(call, receipt=sent.sid)
    session.commit()


# --- catching up (the sweeper) ------------------------------------------------------------------

RECEIPT_WINDOW = timedelta(hours=1)  # a receipt later than this would only confuse the caller
RECEIPT_MAX_TRIES = 5
SETTLE = timedelta(minutes=1)  # leave the webhooks and the first job their chance first


def catch_up(now: datetime) -> int:
    """Finish what a failure left half-done: a kept message whose callout never opened (the database
    or the on-call room failed at that moment), a receipt that never left (Redis was down). Returns
    how many messages were delivered."""
    delivered = 0
    for call_id in _undelivered(now):
        call = session.get(Call, call_id)
        try:
            if call is not None and deliver(call) is not None:
                delivered += 1
                log.info("message of call %s delivered by the sweeper", call_id)
        except Exception:  # noqa: BLE001 - the next sweep tries again; the message stays kept
            session.rollback()
            log.exception("message of call %s still not delivered", call_id)
    for call_id in _receipts_due(now):
        send_receipt(call_id)
    return delivered


def _undelivered(now: datetime) -> list[int]:
    delivered = (CallOutcome.VOICEMAIL, CallOutcome.DESK_MESSAGE)
    return list(
        session.scalars(
            select(Call.id)
            .join(Voicemail, Voicemail.call_id == Call.id)
            .outerjoin(Callout, Callout.voicemail_id == Voicemail.id)
            .where(
                Voicemail.recording_sid.is_not(None),
                Callout.id.is_(None),
                Call.outcome.not_in(delivered),
                (Call.ended_at <= now - SETTLE) | (Voicemail.recorded_at <= now - 30 * SETTLE),
            )
        )
    )


def _receipts_due(now: datetime) -> list[int]:
    recent = session.scalars(
        select(Call).where(
            Call.outcome == CallOutcome.VOICEMAIL,
            Call.started_at >= now - RECEIPT_WINDOW,
            Call.ended_at <= now - SETTLE,
        )
    )
    return [c.id for c in recent if not recall(c, "receipt") and receipt_number(c)]
