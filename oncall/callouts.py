"""Callouts: the promise that someone takes over a voicemail within the takeover delay."""

from __future__ import annotations

from sqlalchemy import select

import clock
from models import Callout, CalloutState, Voicemail, session
from oncall.load import current_org
from tickets.timeline import add_event


def open_callout(voicemail: Voicemail) -> Callout:
    """Open the callout of an eligible voicemail (once: Twilio retries), due at message + takeover.

    The caller commits; the first policy step is enqueued after the commit by `start_paging`.
    """
    existing = session.scalar(select(Callout).where(Callout.voicemail_id == voicemail.id))
    if existing is not None:
        return existing
    org = current_org()
    assert voicemail.ticket is not None
    opened = voicemail.recorded_at or clock.now()
    callout = Callout(
        ticket_id=voicemail.ticket.id,
        voicemail_id=voicemail.id,
        state=CalloutState.PAGING,
        opened_at=opened,
        due_at=opened + org.takeover,
        next_step=0,
        next_action_at=opened + org.policy[0].after,
    )
    session.add(callout)
    session.flush()
    add_event(voicemail.ticket, "callout", f"astreinte alertée, prise en charge attendue avant "
              f"{callout.due_at.astimezone(org.timezone):%H:%M}", data={"callout": callout.id})
    return callout


def start_paging(callout_id: int) -> None:
    """Hand the first step to the worker (after the webhook committed the callout)."""
    import tasks
    from oncall.sweeper import run_due_steps

    tasks.enqueue(run_due_steps, callout_id)
