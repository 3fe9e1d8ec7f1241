"""TWILIO_MESSAGING_SERVICE_SID: the pages' SMS go out through the Messaging Service (French
geographic numbers usually cannot send SMS); the page calls still come from the support number."""

from __future__ import annotations

from typing import Any

import pytest

from .oncall_helpers import ALICE, leave_voicemail
from .twilio_standin import TwilioStandIn, fixtures, standin_config

_, twilio_server, twilio = fixtures()
SERVICE = "MG" + "1" * 32


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: TwilioStandIn) -> dict[str, Any]:
    return {**standin_config(app_config, twilio_server), "TWILIO_MESSAGING_SERVICE_SID": SERVICE}


def test_page_sms_go_through_the_messaging_service_and_calls_from_the_support_number(twilio, clock):
    leave_voicemail("104233")
    assert twilio.sms_to(ALICE).from_ == SERVICE
    assert twilio.calls_to(ALICE)[0].from_ == "+33272646172"
