"""Login guessing behind a proxy and spread over addresses, and a password reset that ends sessions."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from tests import factories


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "TRUSTED_PROXIES": 1}  # nginx in front, as docs/deploy.md sets it up


def _try(client, name: str, password: str, address: str) -> int:  # type: ignore[no-untyped-def]
    token = factories.csrf(client)
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": address},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).status_code


def test_a_guesser_behind_the_proxy_does_not_lock_out_everybody(app, client, org):
    """Before: every client was 127.0.0.1 behind nginx, so 30 wrong logins locked every agent out."""
    factories.user("agnes", "correct horse battery")
    factories.user("marc", "another long one")
    for i in range(30):
        _try(client, f"someone{i}", "guess", "203.0.113.9")
    assert _try(client, "agnes", "wrong", "203.0.113.9") == 429  # the guesser is stopped
    other = app.test_client()
    assert _try(other, "agnes", "correct horse battery", "198.51.100.7") == 302  # agnes is not


def test_guesses_spread_over_addresses_stop_at_the_account_cap(app, client, org):
    """Before: 6 addresses x 10 tries each, and more addresses gave more tries, without end."""
    factories.user("agnes", "correct horse battery")
    for i in range(30):
        assert _try(client, "agnes", "guess", f"203.0.113.{i // 9}") == 401
    assert _try(client, "agnes", "correct horse battery", "203.0.113.200") == 429


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(app, client, org):
    app.wsgi_app = app.wsgi_app.app  # type: ignore[attr-defined] - as TRUSTED_PROXIES=0 builds it
    factories.user("agnes", "correct horse battery")
    for i in range(10):  # a guesser writing a new X-Forwarded-For each time is still one address
        _try(client, "agnes", "guess", f"192.0.2.{i}")
    assert _try(client, "agnes", "correct horse battery", "192.0.2.99") == 429


def test_a_password_reset_ends_the_users_sessions(app, client, org):
    factories.login(client, "agnes", "correct horse battery")
    assert client.get("/now").status_code == 200
    result = CliRunner().invoke(
        app.cli, ["user", "add", "agnes", "--update", "--role", "agent"], input="a brand new passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/now").status_code == 302  # the cookie made before the reset no longer works
