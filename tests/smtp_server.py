"""The SMTP server of the tests: a real one (aiosmtpd) in devtools/fake_smtp.py, the one fake network
beside fake_twilio.py and fake_vonage.py; here, its fixtures. `mailbox` is the server, emptied;
`smtp_config(base, server)` points an application at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devtools.fake_smtp import Mail, Mailbox, smtp_config  # noqa: F401 - what the tests use of it


@pytest.fixture(scope="session")
def mail_server() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def mailbox(mail_server: Mailbox) -> Iterator[Mailbox]:
    mail_server.reset()
    yield mail_server
    mail_server.reset()


def fixtures() -> tuple[Any, Any]:
    """`mail_server, mailbox = fixtures()` in a test module that uses the SMTP server."""
    return mail_server, mailbox
