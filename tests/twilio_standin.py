"""The Twilio REST stand-in of the tests: the server is devtools/fake_twilio.py (one fake Twilio for the
tests and the benchmarks); here, its fixtures. `app_config, twilio_server, twilio = fixtures()` in a test
module points the application at it: real REST calls, no outbox, a phone to ring technicians."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devtools.fake_twilio import (  # noqa: F401 - what the tests use of it
    ACCOUNT_SID,
    CHAOS,
    RECORDINGS_QUERY,
    Failure,
    Message,
    PlacedCall,
    Recording,
    TwilioStandIn,
)
from devtools.simulator import Phone

from .conftest import AUTH_TOKEN, PUBLIC_BASE_URL

# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def twilio_server() -> Iterator[TwilioStandIn]:
    server = TwilioStandIn(auth_token=AUTH_TOKEN)
    yield server
    server.close()


def standin_config(base: dict[str, Any], server: TwilioStandIn) -> dict[str, Any]:
    """The application pointed at the stand-in: real REST calls, no outbox."""
    return {
        **base,
        "TWILIO_ACCOUNT_SID": server.account_sid,
        "TWILIO_AUTH_TOKEN": server.auth_token,
        "TWILIO_API_BASE_URL": server.base_url,
        "TWILIO_OUTBOX": False,
        "TWILIO_TIMEOUT": 1,
    }


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: TwilioStandIn) -> dict[str, Any]:
    return standin_config(app_config, twilio_server)


@pytest.fixture
def twilio(app: Any, org: Any, twilio_server: TwilioStandIn) -> Iterator[TwilioStandIn]:
    """The stand-in, emptied, with a phone to ring technicians through the page calls."""
    twilio_server.reset()
    twilio_server.phone = Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    yield twilio_server
    twilio_server.phone = None


def fixtures() -> tuple[Any, Any, Any]:
    """`app_config, twilio_server, twilio = fixtures()` in a test module that uses the stand-in."""
    return app_config, twilio_server, twilio
