"""Live connect: an urgent caller put through to the technician on call, who accepts with a key.

The decisions only (who is rung, in which order, what accepting or nobody accepting does); the TwiML
is `voice/live.py`'s. The chain is tonight's on-call positions, primary then backup, fixed when the
caller presses 1 (a handoff during the ringing changes nothing). Accepting is the takeover
(`Channel.LIVE`): a callout is opened on the call, counted from the caller's 1, and taken over at once,
so the timeline, the reports and the API see it like any other. Nobody accepting leaves the message
path of every night. A caller who hangs up while we ring has still asked for a technician on an
urgent ticket: the callout opens without a message and pages as usual, so somebody calls them back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

import clock
from models import Call, Callout, CallOutcome, Channel, Person, Voicemail, VoicemailKind, session
from oncall.callouts import open_callout, start_paging
from oncall.takeover import Takeover, take_over
from oncall.tonight import on_call_tonight
from org.orgfile import POSITIONS, Org
from tickets.calls import caller_number, recall, remember
from tickets.timeline import add_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Level:
    """One level of the chain: who is rung, for which position."""

    index: int
    position: str
    person: Person


def offered(org: Org, call: Call, now: datetime) -> bool:
    """Is this caller, whose PIN was right on an eligible ticket, offered to talk now?"""
    live = org.live_connect
    if live is None or call.ticket is None or not call.after_hours:
        return False
    return call.ticket.priority in live.priorities and bool(tonight_chain(org, now))


def tonight_chain(org: Org, now: datetime) -> list[tuple[str, Person]]:
    """Primary, then backup (each active person once, with a phone)."""
    on_call = on_call_tonight(org, now)
    chain: list[tuple[str, Person]] = []
    for position in POSITIONS:
        pid = on_call[position]
        person = session.get(Person, pid) if pid else None
        if person is not None and person.active and person.phone and all(p.id != pid for _, p in chain):
            chain.append((position, person))
    return chain


def start(org: Org, call: Call) -> Level | None:
    """The caller pressed 1: the chain is fixed and the first level is rung (None: nobody on call)."""
    assert call.ticket is not None
    now = clock.now()
    chain = tonight_chain(org, now)
    if not chain:
        return None
    remember(
        call,
        live_at=now.isoformat(),
        live_chain=[[position, person.id] for position, person in chain],
        live_level=0,
    )
    add_event(
        call.ticket,
        "live_request",
        actor=call.from_number,
        data={"call": call.id, "people": [p.id for _, p in chain], "names": [p.name for _, p in chain]},
    )
    return level(call, 0)


def level(call: Call, index: int) -> Level | None:
    """The level `index` of the call's chain, or None past its end."""
    chain = recall(call, "live_chain") or []
    if not 0 <= index < len(chain):
        return None
    position, pid = chain[index]
    person = session.get(Person, pid)
    return Level(index, position, person) if person is not None else None


def current_level(call: Call) -> int | None:
    """The level being rung now, None when the caller never asked (or it is over)."""
    if recall(call, "live_chain") is None or recall(call, "live_over"):
        return None
    return int(recall(call, "live_level", 0))


def next_level(call: Call) -> Level | None:
    """The level rung did not accept: the next one, or None when the chain is done."""
    index = int(recall(call, "live_level", 0)) + 1
    found = level(call, index)
    if found is not None:
        remember(call, live_level=index)
    return found


def accepted_by(call: Call) -> str | None:
    return recall(call, "live_accepted_by")


def accept(call: Call, person: Person) -> Takeover | None:
    """The technician pressed 1: the callout opens on the call and is theirs (None: too late, the
    caller is gone or the ringing moved on)."""
    if call.ended_at is not None or recall(call, "live_over") or call.ticket is None:
        return None
    callout = _callout(call)
    session.flush()
    result = take_over(callout, person, Channel.LIVE)
    if result.won:
        remember(call, live_accepted_by=person.id, live_over=True)
        call.outcome, call.reason = CallOutcome.CONNECTED, None
        call.step = "live_connected"
        session.commit()
    return result


def nobody_accepted(call: Call) -> None:
    """The chain is done and nobody accepted: the caller goes on to leave a message."""
    assert call.ticket is not None
    remember(call, live_over=True)
    people = [pid for _, pid in recall(call, "live_chain") or []]
    names = [p.name for pid in people if (p := session.get(Person, pid)) is not None]
    add_event(call.ticket, "live_unanswered", data={"call": call.id, "people": people, "names": names})


def hung_up(call: Call) -> Callout | None:
    """The caller hung up while we rang (their legs are cancelled by the network), or after nobody
    accepted and before leaving a message: the callout still opens and pages, counted from their 1 —
    an urgent caller who asked for a technician is called back, not forgotten. Once; nothing when
    someone accepted or a message was left."""
    if recall(call, "live_chain") is None or accepted_by(call) or recall(call, "live_paged"):
        return None
    if call.ticket is None or call.outcome not in (CallOutcome.IN_PROGRESS, CallOutcome.ABANDONED):
        return None  # a message was left: it pages already
    remember(call, live_over=True, live_paged=True)
    callout = _callout(call)
    call.outcome, call.reason = CallOutcome.ABANDONED, "live"
    add_event(call.ticket, "live_hung_up", data={"call": call.id, "callout": callout.id})
    session.commit()
    try:
        start_paging(callout.id)
    except Exception:  # the callout is open: the sweeper pages
        session.rollback()
        log.exception("paging of callout %s did not start; the sweeper will", callout.id)
    return callout


FORGOTTEN = timedelta(minutes=15)  # far beyond a chain's ringing: a call still "being put through" is gone


def catch_up(now: datetime) -> int:
    """Callers who pressed 1 and whose end never reached us (a lost status callback): still ringing
    the chain a quarter of an hour later means gone. Their callout opens and pages (the sweeper)."""
    stale = session.scalars(
        select(Call).where(
            Call.step == "live",
            Call.outcome == CallOutcome.IN_PROGRESS,
            Call.started_at < now - FORGOTTEN,
        )
    )
    opened = 0
    for call in list(stale):
        if hung_up(call) is not None:
            log.warning("live request of call %s: its end never came; the callout pages", call.id)
            opened += 1
    return opened


def _callout(call: Call) -> Callout:
    """The callout of the caller's request: on a voicemail row with no recording (the call is the
    message), opened at their 1."""
    assert call.ticket is not None
    asked = datetime.fromisoformat(recall(call, "live_at") or clock.now().isoformat())
    voicemail = call.voicemail
    if voicemail is None:
        voicemail = Voicemail(
            call=call,
            ticket_id=call.ticket.id,
            kind=VoicemailKind.ASTREINTE,
            callback_number=caller_number(call),
            recorded_at=asked,
        )
        session.add(voicemail)
        session.flush()
    existing = session.scalar(select(Callout).where(Callout.voicemail_id == voicemail.id))
    return existing if existing is not None else open_callout(voicemail)
