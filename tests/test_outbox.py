"""The outbox: every message astreinte sends is a row with one state, in local-outbox mode too, and
`astreinte outbox` shows the last ones without SQL. The migration carries the older history over."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

import migrations
import models
from devtools.network import Network
from models import Channel, MessageState, OutgoingMessage, Person, session
from oncall.sending import send_sms
from oncall.sweeper import sweep
from oncall.takeover import take_over

from .oncall_helpers import ALICE, CALLER, leave_voicemail, refreshed


def test_in_local_outbox_mode_every_message_is_a_row_with_its_state(org, clock):
    leave_voicemail("104233")
    rows = session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)).all()
    assert {(m.kind, m.channel, m.to_address, m.carrier, m.state) for m in rows} == {
        ("page", Channel.SMS, ALICE, "outbox", MessageState.SENT),
        ("page", Channel.VOICE, ALICE, "outbox", MessageState.SENT),
    }
    sms = next(m for m in rows if m.channel is Channel.SMS)
    assert sms.body.startswith("Astreinte 104233") and sms.carrier_id.startswith("SMlocal")
    assert sms.person_id == "alice" and sms.page_id is not None


def test_the_domain_port_keeps_its_name_and_signature_and_writes_a_row(org, clock):
    sent = send_sms(CALLER, "Votre requête 104233 est résolue.")
    row = session.scalar(select(OutgoingMessage).where(OutgoingMessage.carrier_id == sent.sid))
    assert row.kind == "sms" and row.state is MessageState.SENT and row.to_address == CALLER


def test_astreinte_outbox_prints_the_last_messages_newest_first(app, org, clock):
    leave_voicemail("104233")
    clock.advance(minutes=6)
    send_sms(CALLER, "Pris en charge par Alice à 23:16")
    session.commit()
    out = app.test_cli_runner().invoke(args=["outbox"]).output
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert "+33611223344" in lines[0] and "Pris en charge par Alice" in lines[0]
    assert all(w in lines[-1] or w in lines[-2] for w in ("Alice Martin", "sms", "outbox", "sent"))
    assert "Astreinte 104233" in out and "2026-11-24 23:10" in out  # in the organisation's time
    limited = app.test_cli_runner().invoke(args=["outbox", "--limit", "1"]).output.splitlines()
    assert limited == lines[:1]
    alice = app.test_cli_runner().invoke(args=["outbox", "--person", "alice"]).output.splitlines()
    assert len(alice) == 2 and all("Alice Martin" in line for line in alice)


def test_astreinte_outbox_refuses_what_makes_no_sense(app, org):
    runner = app.test_cli_runner()
    assert "No message yet." in runner.invoke(args=["outbox"]).output
    assert runner.invoke(args=["outbox", "--limit", "0"]).exit_code == 2
    bad = runner.invoke(args=["outbox", "--person", "mallory"])
    assert bad.exit_code == 2 and "nobody has the id 'mallory'" in bad.output


def test_the_upgrade_carries_the_local_outbox_and_the_pages_sent_over(tmp_path: Path):
    engine = models.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config(str(Path(migrations.__file__).parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "0006_page_tests")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person (id, name, phone, language, active) VALUES ('alice', 'Alice', '+33612345678', 'fr', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox_message (sid, kind, to_number, from_number, body, created_at) VALUES "
                "('SMlocal1', 'sms', '+33611223344', '+33272646172', 'Votre message est transmis', '2026-11-20 22:00:00+00:00'),"
                "('SMlocal2', 'sms', '+33612345678', '+33272646172', 'Astreinte 104233', '2026-11-20 22:00:01+00:00')"
            )
        )
        conn.execute(
            text("INSERT INTO client (id, account, name, pin_hash, astreinte) VALUES (1, 'C1', 'C', 'x', 1);")
        )
        conn.execute(
            text(
                "INSERT INTO ticket (id, number, client_id, priority, subject, status, opened_at, updated_at, standby_seconds, major_incident)"
                " VALUES (1, '104233', 1, 'high', 's', 'open', '2026-11-20 22:00:00+00:00', '2026-11-20 22:00:00+00:00', 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO call (id, sid, from_number, to_number, started_at, status, after_hours, outcome, step, language, tries)"
                " VALUES (1, 'CA1', '+33611223344', '+33272646172', '2026-11-20 22:00:00+00:00', 'completed', 1, 'voicemail', 'done', 'fr', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO voicemail (id, call_id, kind, recorded_at) VALUES (1, 1, 'astreinte', '2026-11-20 22:00:00+00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO callout (id, ticket_id, voicemail_id, state, opened_at, due_at, next_step, escalation_level)"
                " VALUES (1, 1, 1, 'paging', '2026-11-20 22:00:00+00:00', '2026-11-20 22:30:00+00:00', 1, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO page (callout_id, person_id, channel, step, to_number, status, twilio_sid, attempts, created_at, updated_at)"
                " VALUES (1, 'alice', 'sms', 0, '+33612345678', 'delivered', 'SMlocal2', 1, '2026-11-20 22:00:01+00:00', '2026-11-20 22:00:05+00:00')"
            )
        )
    migrations.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT kind, channel, to_address, carrier, carrier_id, state, body FROM outgoing_message ORDER BY id"
            )
        ).all()
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("page", "sms", "+33612345678", "outbox", "SMlocal2", "delivered", "Astreinte 104233"),
        ("message", "sms", "+33611223344", "outbox", "SMlocal1", "sent", "Votre message est transmis"),
    ]
    assert "outbox_message" not in tables and "carrier_health" in tables


def test_a_night_pages_the_primary_once_and_nothing_else_leaves(org, clock):
    network = Network()
    callout = leave_voicemail("104233")
    network.expect(ALICE, Channel.SMS, "Astreinte 104233")
    network.expect(ALICE, Channel.VOICE)
    network.nothing_else()
    clock.advance(minutes=5)
    sweep()  # the policy's second step calls alice again
    network.expect(ALICE, Channel.VOICE)
    network.nothing_else()
    take_over(refreshed(callout), session.get(Person, "alice"), Channel.SMS)
    session.commit()
    network.expect(CALLER, Channel.SMS, "Alice a pris en charge")  # the caller is told
    clock.advance(minutes=30)
    sweep()
    network.nothing_else()  # taken over: no more pages


def test_nothing_else_names_what_was_not_expected(org, clock):
    network = Network()
    leave_voicemail("104233")
    network.expect(ALICE, Channel.SMS)
    with pytest.raises(
        AssertionError, match="and nothing else was sent, but: voice to \\+33612345678 by outbox"
    ):
        network.nothing_else()
