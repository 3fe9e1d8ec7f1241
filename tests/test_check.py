"""`astreinte check` against the Twilio REST stand-in: the support number's capabilities and webhooks
as configured at Twilio, compared with PUBLIC_BASE_URL."""

from __future__ import annotations

from click.testing import CliRunner

from .conftest import PUBLIC_BASE_URL
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()
SUPPORT = "+33272646172"


def _check(app):
    return CliRunner().invoke(app.cli, ["check"])


def test_a_number_set_up_as_the_readme_says_passes(app, twilio):
    twilio.own_number(
        SUPPORT,
        voice_url=PUBLIC_BASE_URL + "/voice/incoming",
        status_callback=PUBLIC_BASE_URL + "/voice/status",
        sms_url=PUBLIC_BASE_URL + "/sms/incoming",
        voice_fallback_url="https://handler.twilio.com/twiml/EH0123",
    )
    result = _check(app)
    assert result.exit_code == 0, result.output
    assert "ok    credentials: account AC" in result.output
    assert f"ok    voice webhook: {PUBLIC_BASE_URL}/voice/incoming" in result.output
    assert "the Twilio setup matches this deployment" in result.output


def test_a_webhook_pointing_elsewhere_and_no_fallback_are_named(app, twilio):
    twilio.own_number(
        SUPPORT,
        voice_url="https://old-server.example.com/voice/incoming",
        status_callback=PUBLIC_BASE_URL + "/voice/status",
        sms_url="",
        capabilities={"voice": True, "sms": False},
    )
    out = _check(app).output
    assert (
        f"FAIL  voice webhook is https://old-server.example.com/voice/incoming, expected {PUBLIC_BASE_URL}/voice/incoming"
        in out
    )
    assert "FAIL  +33272646172 has no SMS: set TWILIO_MESSAGING_SERVICE_SID" in out
    assert "warn  no fallback URL" in out


def test_a_support_number_the_account_does_not_own_fails(app, twilio):
    result = _check(app)
    assert result.exit_code == 1
    assert (
        "FAIL  support number +33272646172 (organisation file) is not a number of this account"
        in result.output
    )


def test_outbox_mode_is_a_failure_of_the_check(app, org):
    app.config["TWILIO_OUTBOX"] = True
    result = _check(app)
    assert result.exit_code == 1 and "outbox mode, nothing reaches a phone" in result.output
