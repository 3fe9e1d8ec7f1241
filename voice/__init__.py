"""The telephony edge, the only place that knows Twilio: webhooks, TwiML, signature checks, Twilio as a
carrier of the outbox (REST, or the local outbox), Twilio statuses mapped to outcomes."""

from __future__ import annotations

from flask import Flask

from oncall import carriers, pagetests
from voice.callback import bp as callback_bp
from voice.caller import bp as caller_bp
from voice.carrier import TwilioCarrier
from voice.fallback import bp as fallback_bp
from voice.live import bp as live_bp
from voice.pagetest import bp as page_tests_bp
from voice.pagetest import look_up as look_up_page_test
from voice.pagetest_cli import page_group
from voice.paging import bp as paging_bp
from voice.retention import recordings_group
from voice.sms import bp as sms_bp


def register(app: Flask) -> None:
    app.register_blueprint(caller_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(callback_bp)
    app.register_blueprint(fallback_bp)
    app.register_blueprint(paging_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(page_tests_bp)
    carriers.register(app, TwilioCarrier())  # SMS and calls; the outbox when no credentials
    pagetests.register_look_up(app, look_up_page_test)
    app.cli.add_command(recordings_group)
    app.cli.add_command(page_group)
