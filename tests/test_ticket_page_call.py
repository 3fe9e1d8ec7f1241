"""The page call of a ticket that paged without a call, as the technician hears it: who and what, no
message to play, the client's contact one key away, 1 takes over and nobody is texted as a caller."""

from __future__ import annotations

from sqlalchemy import select

from models import Callout, CalloutState, session
from oncall.ticket_changes import open_ticket

from .oncall_helpers import ALICE, CALLER
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_alice_hears_the_urgent_ticket_and_takes_it_over_with_1(twilio, clock):
    ticket = open_ticket(
        client="C1001", priority="urgent", service="SDSL-4471", subject="Site à l'arrêt", actor="api:itsm"
    )
    assert twilio.sms_to(ALICE).body.startswith(f"Astreinte {ticket.number} Boulangerie Dupont")
    call = twilio.ring(twilio.call_to(ALICE), answer="human")
    call.expect("Bonjour Alice").expect("Boulangerie Dupont")
    call.press("2").expect("Le message n'est pas disponible")
    call.press("1").expect("vous avez pris en charge la requête")
    callout = session.scalar(select(Callout).where(Callout.ticket_id == ticket.id))
    assert callout.state is CalloutState.TAKEN_OVER and callout.taken_over_by == "alice"
    assert twilio.sms_sent_to(CALLER) == []  # nobody called: no "pris en charge" SMS
