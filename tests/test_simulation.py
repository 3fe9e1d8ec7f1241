"""`astreinte call` (in-process) and `astreinte demo` play on a throw-away database: even with Twilio
credentials set and a live queue, they leave the live database, the queue and Twilio untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, func, select

import models
from models import Call, Callout, OutgoingMessage, session
from org.load import load, read_file

from .conftest import ORG_FILE
from .twilio_standin import TwilioStandIn, fixtures, standin_config

_, twilio_server, twilio = fixtures()

NIGHT_CALL = "\n".join(["104233#", "4821#", "", "r20", "1"]) + "\n"  # ticket, PIN, keep the number


@pytest.fixture
def app_config(app_config: dict[str, Any], twilio_server: TwilioStandIn) -> dict[str, Any]:
    """Live settings: real Twilio REST (the stand-in) and a real queue, as in production."""
    return {**standin_config(app_config, twilio_server), "TASKS_INLINE": False}


def _counts() -> dict[str, int]:
    session.expire_all()
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in models.Base.metadata.sorted_tables
    }


def test_a_night_call_in_the_terminal_leaves_the_live_database_queue_and_twilio_untouched(app, twilio, clock):
    before = _counts()
    result = app.test_cli_runner().invoke(
        args=["call", "+33611223344", "--at", "2026-11-24 23:10"], input=NIGHT_CALL
    )
    assert result.exit_code == 0, result.output
    assert "a throw-away database" in result.output
    assert "outcome: voicemail" in result.output and "ticket: 104233" in result.output
    assert _counts() == before
    assert twilio.state.requests == 0
    assert redis.Redis.from_url(app.config["REDIS_URL"]).dbsize() == 0
    assert app.config["TWILIO_OUTBOX"] is False and app.config["TASKS_INLINE"] is False  # restored


def test_the_call_uses_the_live_organisation_when_one_is_loaded(app, clock):
    doc = read_file(ORG_FILE)
    doc["tickets"].append({"number": "777001", "client": "C1001", "service": "SDSL-4471", "priority": "high"})
    load(doc)
    keys = NIGHT_CALL.replace("104233#", "777001#")
    result = app.test_cli_runner().invoke(
        args=["call", "+33611223344", "--at", "2026-11-24 23:10"], input=keys
    )
    assert "no organisation loaded" not in result.output
    assert "outcome: voicemail" in result.output and "ticket: 777001" in result.output


def test_with_no_organisation_loaded_the_example_one_answers(app, clock):
    result = app.test_cli_runner().invoke(
        args=["call", "+33611223344", "--at", "2026-11-24 23:10"], input=NIGHT_CALL
    )
    assert result.exit_code == 0, result.output
    assert "the example one (examples/org.yaml) answers" in result.output
    assert "outcome: voicemail" in result.output
    assert session.scalar(select(models.Organisation.id)) is None


def test_the_demo_night_leaves_the_live_database_queue_and_twilio_untouched(app, twilio):
    before = _counts()
    result = app.test_cli_runner().invoke(args=["demo", "--night", "2026-11-24"])
    assert result.exit_code == 0, result.output
    assert "pris en charge par Chloé Durand (par SMS) en 47 min" in result.output
    assert _counts() == before
    assert session.scalar(select(func.count()).select_from(Callout)) == 0
    assert twilio.state.requests == 0
    assert redis.Redis.from_url(app.config["REDIS_URL"]).dbsize() == 0


def test_the_demo_night_can_be_kept_in_a_file_for_the_dashboard(app, tmp_path: Path):
    kept = tmp_path / "night.db"
    result = app.test_cli_runner().invoke(args=["demo", "--night", "2026-11-24", "--keep", str(kept)])
    assert result.exit_code == 0, result.output
    assert f"DATABASE_URL=sqlite:///{kept}" in result.output
    engine = create_engine(f"sqlite:///{kept}")
    with engine.connect() as conn:
        assert (
            conn.scalar(select(func.count()).select_from(Callout.__table__)) == 3
        )  # the 19:10 breach of 104252, and one per message
        assert conn.scalar(select(func.count()).select_from(Call.__table__)) == 2
        assert conn.scalar(select(func.count()).select_from(OutgoingMessage.__table__)) > 0
    engine.dispose()
    assert session.scalar(select(func.count()).select_from(Callout)) == 0
