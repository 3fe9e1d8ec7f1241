"""A night's cast and a way to leave a voicemail without walking the IVR (a Call and a Voicemail row,
then the callout opened and paging started, as the IVR does after the beep)."""

from __future__ import annotations

import uuid
import wave
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

import clock
from models import Call, Callout, CallOutcome, Ticket, Voicemail, session
from oncall.callouts import open_callout, start_paging

ALICE = "+33612345678"
BRUNO = "+33623456789"
CHLOE = "+33634567890"
DAVID = "+33645678901"
EMMA = "+33656789012"
CALLER = "+33611223344"  # Isabelle Dupont's mobile


def leave_voicemail(
    ticket: str = "104233",
    callback: str = CALLER,
    language: str = "fr",
    at: datetime | None = None,
    page: bool = True,
) -> Callout:
    """A caller left a message on `ticket` now (or `at`): the callout is opened and paging starts."""
    row = session.scalar(select(Ticket).where(Ticket.number == ticket))
    assert row is not None, f"no ticket {ticket}"
    when = at or clock.now()
    call = Call(
        sid="CA" + uuid.uuid4().hex,
        from_number=callback,
        to_number="+33272646172",
        started_at=when,
        outcome=CallOutcome.VOICEMAIL,
        language=language,
        callback_number=callback,
        ticket_id=row.id,
        client_id=row.client_id,
        entered_ticket=ticket,
        step="done",
    )
    session.add(call)
    session.flush()
    recording = "RE" + uuid.uuid4().hex
    folder = Path(current_app.config["RECORDINGS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with wave.open(str(folder / f"{recording}.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    voicemail = Voicemail(
        call_id=call.id,
        ticket_id=row.id,
        recording_sid=recording,
        duration=20,
        recording_status="completed",
        callback_number=callback,
        recorded_at=when,
    )
    session.add(voicemail)
    session.flush()
    callout = open_callout(voicemail)
    session.commit()
    if page:
        start_paging(callout.id)
    return session.get(Callout, callout.id, populate_existing=True)


def refreshed(callout: Callout) -> Callout:
    row = session.get(Callout, callout.id, populate_existing=True)
    assert row is not None
    return row
