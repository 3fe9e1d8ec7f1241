"""RGPD: recordings are kept RECORDING_RETENTION_DAYS, then their media is deleted (the local file,
or the recording at Twilio); the `Voicemail` row stays, with `purged_at`, for the call log.

`astreinte recordings purge` runs it; `purge_recordings` is also a job.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

import clock
import tasks
from models import Voicemail, session
from tickets.calls import FORGET_MEDIA_JOB
from voice import sender as outbound
from voice.recordings import local_path

log = logging.getLogger(__name__)


@tasks.job(FORGET_MEDIA_JOB)
def forget_media(recording_sid: str, recording_url: str = "") -> bool:
    """Delete one recording's media wherever it lives. True when it is gone (or was never there)."""
    path = local_path(recording_sid)
    if path.exists():
        path.unlink()
        return True
    if current_app.config["TWILIO_OUTBOX"] or not recording_sid.startswith("RE"):
        return True
    try:
        outbound._client().api.v2010.account.recordings(recording_sid).delete()
    except Exception as exc:  # noqa: BLE001 - classified below, retried on the next purge
        status = getattr(exc, "status", None)
        if status == 404:
            return True
        log.warning("recording %s not deleted at Twilio: %s", recording_sid, type(exc).__name__)
        return False
    return True


def purge_recordings(now: datetime | None = None) -> int:
    """Delete the media of every voicemail older than the retention period. Returns how many."""
    now = now or clock.now()
    cutoff = now - timedelta(days=int(current_app.config["RECORDING_RETENTION_DAYS"]))
    due = session.scalars(
        select(Voicemail).where(Voicemail.purged_at.is_(None), Voicemail.recorded_at < cutoff)
    ).all()
    purged = 0
    for voicemail in due:
        if voicemail.recording_sid and not forget_media(
            voicemail.recording_sid, voicemail.recording_url or ""
        ):
            continue
        voicemail.purged_at = now
        voicemail.recording_url = None
        session.commit()
        purged += 1
    return purged


@click.group("recordings", help="Voicemail recordings.")
def recordings_group() -> None:
    pass


@recordings_group.command("purge", help="Delete recordings older than RECORDING_RETENTION_DAYS (RGPD).")
@with_appcontext
def purge_command() -> None:
    n = purge_recordings()
    days = current_app.config["RECORDING_RETENTION_DAYS"]
    click.echo(f"{n} recording(s) older than {days} days deleted")
