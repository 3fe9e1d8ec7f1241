"""Secrets are never silent: a production start (PUBLIC_BASE_URL in https) with a missing Twilio
token, or a placeholder or short SECRET_KEY / METRICS_TOKEN, refuses to run and names the variable;
outbox mode in production only when asked for (ASTREINTE_OUTBOX=1). Outside production the outbox
of `make run` is said out loud by /healthz and the dashboard's banner."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from voice.production import start_problems
from wsgi import DEV_AUTH_TOKEN

from .factories import login, visible_text
from .processes import astreinte

GOOD_KEY = "9f" * 32
GOOD_SID = "AC" + "1f" * 16
GOOD_TOKEN = "0123456789abcdef" * 2
PRODUCTION = {
    "PUBLIC_BASE_URL": "https://astreinte.example.fr",
    "SECRET_KEY": GOOD_KEY,
    "TWILIO_ACCOUNT_SID": GOOD_SID,
    "TWILIO_AUTH_TOKEN": GOOD_TOKEN,
    "METRICS_TOKEN": "ab" * 20,
}
NAMES = (
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "METRICS_TOKEN",
    "VONAGE_API_KEY",
    "VONAGE_API_SECRET",
    "VONAGE_SIGNATURE_SECRET",
    "SMTP_URL",
)
VONAGE = {"VONAGE_API_KEY": "a1b2c3d4", "VONAGE_API_SECRET": "vonage-api-secret-0123"}


def _env(tmp_path, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NAMES and k != "ASTREINTE_OUTBOX"}
    env.update(PRODUCTION, ASTREINTE_INSTANCE=str(tmp_path / "instance"), REDIS_URL="redis://127.0.0.1:1/8")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'refused.db'}"
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _start(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command or astreinte("serve"), env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN is missing while TWILIO_ACCOUNT_SID is set"),
        ({"TWILIO_AUTH_TOKEN": "CHANGE-ME"}, "TWILIO_AUTH_TOKEN is a placeholder"),
        (
            {"TWILIO_AUTH_TOKEN": DEV_AUTH_TOKEN},
            "TWILIO_AUTH_TOKEN is a placeholder or the development token",
        ),
        ({"TWILIO_ACCOUNT_SID": "AC" + "x" * 32}, "TWILIO_ACCOUNT_SID is a placeholder"),
        (
            {"TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None},
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are missing",
        ),
        ({"SECRET_KEY": "CHANGE-ME-64-hex-characters"}, "SECRET_KEY is a placeholder"),
        ({"SECRET_KEY": "0123456789"}, "SECRET_KEY is shorter than 32 characters"),
        ({"SECRET_KEY": None}, "SECRET_KEY is missing"),
        ({"METRICS_TOKEN": "CHANGE-ME"}, "METRICS_TOKEN is a placeholder"),
        ({"METRICS_TOKEN": "short-token"}, "METRICS_TOKEN is shorter than 32 characters"),
        (VONAGE, "VONAGE_SIGNATURE_SECRET is missing while VONAGE_API_KEY is set"),
        (
            {**VONAGE, "VONAGE_SIGNATURE_SECRET": "CHANGE-ME-vonage-signature"},
            "VONAGE_SIGNATURE_SECRET is a placeholder",
        ),
        (
            {**VONAGE, "VONAGE_SIGNATURE_SECRET": "s3cr3t"},
            "VONAGE_SIGNATURE_SECRET is shorter than 16 characters",
        ),
        ({"SMTP_URL": "smtp://user:password@host:port"}, "SMTP_URL has a port that is not a number"),
        ({"SMTP_URL": "mail.example.fr:587"}, "SMTP_URL does not start with smtp:// or smtps://"),
        ({"SMTP_URL": "smtp://user:pw@:587"}, "SMTP_URL names no host"),
    ],
)
def test_a_production_serve_with_a_bad_secret_refuses_to_run_and_names_it(tmp_path, changes, named):
    result = _start(_env(tmp_path, **changes))
    assert result.returncode == 2, result.stderr
    assert f"astreinte: refusing to start: {named}" in result.stderr


def test_a_production_start_with_every_carrier_well_set_is_not_refused():
    env = {
        **PRODUCTION,
        **VONAGE,
        "VONAGE_SIGNATURE_SECRET": "q8ZtV3kP0wN7xR2m",
        "SMTP_URL": "smtp://astreinte:p%40ss@smtp.provider.fr:587",
    }
    assert start_problems(env) == []
    assert start_problems({**env, "SMTP_URL": "smtps://relay.provider.fr"}) == []  # port 465 by default


def test_up_worker_and_the_wsgi_app_refuse_a_placeholder_key_too(tmp_path):
    env = _env(tmp_path, SECRET_KEY="CHANGE-ME-64-hex-characters")
    for command in (astreinte("up"), astreinte("worker", "--burst")):
        result = _start(env, *command)
        assert result.returncode == 2 and "SECRET_KEY is a placeholder" in result.stderr, command
    result = _start(env, sys.executable, "-c", "import wsgi; wsgi.app")
    assert result.returncode != 0 and "SECRET_KEY is a placeholder" in result.stderr


def test_a_development_start_is_not_refused(tmp_path):
    """http://127.0.0.1 is `make run`: the generated key and the outbox, as before."""
    env = _env(
        tmp_path, PUBLIC_BASE_URL=None, SECRET_KEY=None, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None
    )
    result = _start(env, *astreinte("db", "upgrade"))
    assert result.returncode == 0, result.stderr
    assert "refusing" not in result.stderr


def test_outbox_mode_in_production_only_when_asked(tmp_path, monkeypatch, database_url, redis_url):
    env = _env(tmp_path, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None, ASTREINTE_OUTBOX="1")
    env.update(DATABASE_URL=database_url, REDIS_URL=redis_url)
    result = _start(env, *astreinte("worker", "--burst"))
    assert result.returncode == 0, result.stderr
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from wsgi import create_app

    app = create_app({"TESTING": True})
    assert app.config["TWILIO_OUTBOX"] and app.config["PRODUCTION"]
    assert app.config["TWILIO_AUTH_TOKEN"] != DEV_AUTH_TOKEN  # the public token signs nothing here
    with app.app_context():
        health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert any("les alertes ne partent pas" in w for w in health.get_json()["warnings"])


def test_make_run_outbox_is_said_by_healthz_and_the_banner(app, org, client):
    app.config.update(TWILIO_AUTH_TOKEN=DEV_AUTH_TOKEN, TWILIO_OUTBOX=True)
    health = client.get("/healthz")
    assert health.status_code == 200
    assert any("les alertes ne partent pas" in w for w in health.get_json()["warnings"])
    assert "local outbox: pages are not leaving" in client.get("/healthz?lang=en").get_json()["warnings"][-1]
    login(client)
    assert "les alertes ne partent pas" in visible_text(client.get("/now"))


def test_check_reports_what_a_production_start_would_refuse(app, org, monkeypatch):
    for key, value in {**PRODUCTION, "METRICS_TOKEN": "CHANGE-ME"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    out = CliRunner().invoke(app.cli, ["check"]).output
    assert "FAIL  TWILIO_AUTH_TOKEN is missing while TWILIO_ACCOUNT_SID is set" in out
    assert "FAIL  METRICS_TOKEN is a placeholder" in out


def test_metrics_are_closed_in_production_without_a_token(app, client):
    app.config.update(PRODUCTION=True, METRICS_TOKEN=None)
    assert client.get("/metrics").status_code == 403
    app.config.update(METRICS_TOKEN="m" * 40)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 40}).status_code == 200
