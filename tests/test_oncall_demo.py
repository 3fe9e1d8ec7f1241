"""`astreinte demo`: a whole night offline, two calls through the IVR, left in the database."""

from __future__ import annotations

from sqlalchemy import select

from devtools.demo import play
from models import Callout, CalloutState, session


def test_the_demo_night_takes_one_call_at_the_first_page_and_escalates_the_other(app, org, clock):
    clock.set("2026-11-25 08:00")
    app.config.update(TWILIO_OUTBOX=True, TASKS_INLINE=True)
    lines: list[str] = []
    play(app, echo=lines.append)
    breach, first, second = session.scalars(select(Callout).order_by(Callout.id)).all()
    assert breach.origin == "breach" and breach.voicemail_id is None  # 19:10: its own ½ h, missed
    assert breach.taken_over_via.value == "sms" and breach.ticket_id == first.ticket_id
    assert first.state is CalloutState.TAKEN_OVER and first.taken_over_via.value == "voice"
    assert not first.breached and first.escalation_level == 0
    assert second.taken_over_by == "chloe" and second.taken_over_via.value == "sms"
    assert second.breached and second.escalation_level == 1
    text = "\n".join(lines)
    assert "nuit du 24/11/2026" in text
    assert "Alice a pris en charge votre demande 104252 à 23:07" in text
    assert "Escalade niveau 1 : Chloé Durand (superviseur)" in text
    assert "délai dépassé, escalade niveau 1" in text
    assert "pris en charge par Chloé Durand (par SMS) en 47 min" in text  # French words only
    # the technician resolves 104252 at 00:20: the client is told, nobody is told it was missed
    assert "votre requete 104252 est résolue (25/11 00:20)" in text and "48 h pour contester" in text
    assert "client prévenu (résolue)" in text and "résolution non tenue" not in text
    assert "personne ne l'a prise en charge dans son délai" in text and "Délai dépassé depuis 19:10" in text
    sent = lines[
        lines.index("\n=== ce qui est parti, personne par personne (canal, transporteur, texte)") + 1 :
    ]
    assert "  Chloé Durand (+33634567890)" in sent  # the supervisor, paged when nobody took over
    chloe = sent[sent.index("  Chloé Durand (+33634567890)") + 1 :]
    assert chloe[0].split()[:2] == ["sms", "outbox"] and "Astreinte 104253" in chloe[0]
    assert sum("est transmis" in line for line in sent) == 2  # one receipt per caller


def test_the_demo_can_run_twice_on_two_nights(app, org, clock):
    clock.set("2026-11-25 08:00")
    app.config.update(TWILIO_OUTBOX=True, TASKS_INLINE=True)
    play(app, echo=lambda line: None)
    clock.set("2026-11-25 08:05")
    lines: list[str] = []
    play(app, echo=lines.append)
    assert "nuit du 23/11/2026" in lines[0]
    callouts = session.scalars(select(Callout)).all()
    assert len(callouts) == 6 and all(c.state is CalloutState.TAKEN_OVER for c in callouts)
