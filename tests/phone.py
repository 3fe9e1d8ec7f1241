"""The fake phone as fixtures: `phone` walks TwiML against the application, signed like Twilio."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from voice.simulator import Phone


@pytest.fixture
def phone(app: Flask, org: Any) -> Phone:
    """A phone in-process, on the example organisation (clock fixture separately)."""
    return Phone(app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
