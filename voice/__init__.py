"""The telephony edge, the only place that knows Twilio: webhooks, TwiML, prompts, outbound calls."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from voice import prompts_caller  # noqa: F401 - registers the caller's prompts
    from voice.caller import bp as caller_bp
    from voice.cli import call_command
    from voice.retention import recordings_group

    app.register_blueprint(caller_bp)
    from voice import prompts_pages  # noqa: F401 - registers the page calls' and SMS prompts
    from voice.paging import bp as paging_bp
    from voice.sms import bp as sms_bp

    app.register_blueprint(paging_bp)
    app.register_blueprint(sms_bp)
    app.cli.add_command(call_command)
    app.cli.add_command(recordings_group)
