"""The fake phone as fixtures: `phone` walks TwiML against the application, signed like Twilio,
on the example organisation, with the clock frozen (Tue 2026-11-24 23:10 in Paris: after hours)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from devtools.simulator import Call as PhoneCall
from devtools.simulator import Phone
from models import Call, Channel, MessageState, OutgoingMessage, session
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

ISABELLE = "+33611223344"  # Boulangerie Dupont's contact, on a mobile


@pytest.fixture
def phone(app: Flask, org: Any, clock: Any) -> Phone:
    return Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)


def up_to_the_beep(
    phone: Phone, ticket: str = "104233", pin: str = "4821", from_: str = ISABELLE
) -> PhoneCall:
    """A caller who gives a good ticket and PIN and keeps their caller ID: the next thing is the beep."""
    call = phone.call(from_=from_)
    call.expect("numéro de requête").press(f"{ticket}#")
    call.expect("code PIN").press(f"{pin}#")
    call.expect("nous vous rappellerons").silence()  # a short pause keeps the caller ID
    return call.expect("après le bip")


def call_row(call: PhoneCall) -> Call:
    row = session.scalar(select(Call).where(Call.sid == call.sid))
    assert row is not None, f"no call row for {call.sid}"
    session.refresh(row)
    return row


def sms_to(number: str) -> list[str]:
    return list(
        session.scalars(
            select(OutgoingMessage.body)
            .where(
                OutgoingMessage.channel == Channel.SMS,
                OutgoingMessage.to_address == number,
                OutgoingMessage.carrier_id.is_not(None),
                OutgoingMessage.state != MessageState.BUNDLED,
            )
            .order_by(OutgoingMessage.id)
        )
    )
