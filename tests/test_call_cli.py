"""`astreinte call` walks the IVR in a terminal; `astreinte recordings purge` applies the retention."""

from __future__ import annotations

import threading

from sqlalchemy import select
from werkzeug.serving import make_server

from models import Call, CallOutcome, Voicemail, session
from tests.phone import ISABELLE, up_to_the_beep


def test_astreinte_call_walks_a_night_call_in_the_terminal(app, phone):
    keys = "\n".join(["104233#", "4821#", "", "r20", "1"]) + "\n"
    result = app.test_cli_runner().invoke(args=["call", ISABELLE], input=keys)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "« Bonsoir, ici l'astreinte Serveurcom, réservée aux requêtes déjà ouvertes. »" in out
    assert "1 0 4 2 3 3" in out and "Après le bip" in out and "au plus tard dans 30 minutes" in out
    assert "-- call ended" in out and "outcome: voicemail" in out and "ticket: 104233" in out
    after = out[out.index("-- what left, person by person") :].splitlines()[1:]
    assert after[0] == "  Alice Martin (+33612345678)"  # tonight's primary: paged by SMS and a call
    assert after[1].split()[:2] == ["sms", "outbox"] and "Astreinte 104233" in after[1]
    assert after[2].split() == ["voice", "outbox", "(call)"]
    assert after[3] == "  +33611223344"  # the caller's receipt
    assert after[4].split()[:2] == ["sms", "outbox"] and "est transmis" in after[4]
    assert len(after) == 5  # and nothing else left


def test_astreinte_call_puts_an_urgent_caller_through_to_the_technician_who_accepts(app, phone):
    keys = "\n".join(["104245#", "4821#", "1", "t", "1"]) + "\n"
    result = app.test_cli_runner().invoke(args=["call", ISABELLE], input=keys)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Pour parler maintenant au technicien d'astreinte, tapez 1" in out
    assert "technician « Astreinte Serveurcom : un client demande à vous parler maintenant." in out
    assert "-- put through" in out and "outcome: connected, ticket: 104245" in out


def test_astreinte_call_keeps_hints_keys_and_speech_on_lines_of_their_own(app, phone):
    keys = "\n".join(["104233#", "4821#", "", "r20", "1"]) + "\n"
    lines = app.test_cli_runner().invoke(args=["call", ISABELLE], input=keys).output.splitlines()
    assert not [line for line in lines if "[gather" in line and "«" in line]
    assert "> 104233#" in lines and "> (silence)" in lines and "> r20" in lines
    hint = lines.index("  [gather: keys then Enter, empty = silence, h = hang up]")
    assert lines[hint - 1] == "  « Tapez votre numéro de requête, puis tapez dièse. »"
    assert lines[hint + 1] == "> 104233#" and lines[hint + 2].startswith(
        "  « Requête 1 0 4 2 3 3. Tapez votre code PIN"
    )


def test_astreinte_call_hangs_up_on_h_and_at_the_end_of_input(app, phone):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["call", ISABELLE], input="104233#\nh\n")
    assert "outcome: abandoned, reason: pin" in result.output
    result = runner.invoke(args=["call", ISABELLE], input="")
    assert "outcome: abandoned, reason: greeting" in result.output


def test_astreinte_call_says_what_it_expects_on_a_wrong_entry(app, phone):
    result = app.test_cli_runner().invoke(args=["call", ISABELLE], input="104233#\n4821#\n\nxyz\nr5h\n")
    assert "type r, r20, r20h" in result.output
    assert "outcome: voicemail" in result.output


def test_astreinte_call_over_http_against_a_running_server(app, phone):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        keys = "\n".join(["9", "104233#", "4821#", "", "r10h"]) + "\n"
        result = app.test_cli_runner().invoke(args=["call", ISABELLE, "--url", url], input=keys)
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert (
        "We will call you back on 0 6 1 1 2 2 3 3 4 4" in result.output and "-- call ended" in result.output
    )
    session.expire_all()
    assert session.scalar(select(Call)).outcome is CallOutcome.VOICEMAIL


def test_recordings_older_than_the_retention_are_purged(app, phone, clock):
    up_to_the_beep(phone).record(seconds=20).press("1")
    voicemail = session.scalar(select(Voicemail))
    media = app.config["RECORDINGS_DIR"] / f"{voicemail.recording_sid}.wav"
    assert media.exists()
    runner = app.test_cli_runner()

    clock.advance(days=89)
    assert "0 recording(s)" in runner.invoke(args=["recordings", "purge"]).output
    assert media.exists()

    clock.advance(days=2)
    assert "1 recording(s) older than 90 days deleted" in runner.invoke(args=["recordings", "purge"]).output
    session.refresh(voicemail)
    assert not media.exists() and voicemail.purged_at is not None and voicemail.recording_url is None
    assert "0 recording(s)" in runner.invoke(args=["recordings", "purge"]).output


def test_astreinte_call_at_a_given_time_reaches_the_astreinte_or_the_desk(app, phone):
    runner = app.test_cli_runner()
    night = runner.invoke(args=["call", ISABELLE, "--at", "2026-12-25 10:00"], input="h\n")
    assert "l'astreinte Serveurcom" in night.output
    day = runner.invoke(args=["call", ISABELLE, "--at", "2026-11-25 10:00"], input="h\n")
    assert "Nous vous mettons en relation avec le service client" in day.output
    wrong = runner.invoke(args=["call", ISABELLE, "--at", "tonight"])
    assert wrong.exit_code == 2 and "2026-11-24 23:10" in wrong.output
