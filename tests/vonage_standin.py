"""The Vonage stand-in of the tests: the server is devtools/fake_vonage.py (the one fake network, beside
fake_twilio.py and fake_smtp.py); here, its fixtures. `vonage_server, vonage = fixtures()` in a test
module: the stand-in, emptied, the application pointed at it (`vonage_config`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devtools.fake_vonage import (  # noqa: F401 - what the tests use of it
    API_KEY,
    API_SECRET,
    APPLICATION_ID,
    SIGNATURE_SECRET,
    Sms,
    VoiceCall,
    VonageStandIn,
    application_key,
    vonage_config,
)


@pytest.fixture(scope="session")
def vonage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VonageStandIn]:
    server = VonageStandIn(tmp_path_factory.mktemp("vonage"))
    yield server
    server.close()


@pytest.fixture
def vonage(
    app: Any, org: Any, vonage_server: VonageStandIn, monkeypatch: pytest.MonkeyPatch
) -> Iterator[VonageStandIn]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(vonage_server.cert))
    vonage_server.reset()
    vonage_server.client = app.test_client()
    yield vonage_server
    vonage_server.client = None


def fixtures() -> tuple[Any, Any]:
    """`vonage_server, vonage = fixtures()` in a test module that uses the stand-in."""
    return vonage_server, vonage
