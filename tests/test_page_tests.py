"""`astreinte page test PERSON` through the real twilio library and the REST stand-in: the test SMS and
the test call reach the phone, the operator reads what Twilio said as it comes, and the exit status
says whether a real page would get through."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from models import PageTest, session
from oncall.sweeper import sweep
from tests import factories

from .oncall_helpers import ALICE, BRUNO
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def page_test(app: Any, *args: str) -> Any:
    return CliRunner().invoke(app.cli, ["page", "test", *args])


def meanwhile(twilio: Any, to: str, play: Callable[[Any, Any], None]) -> threading.Thread:
    """Twilio's side of the test, in its own thread while the command waits: `play(sms, call)` once
    both reached the stand-in. What it asserts is re-raised by `done`."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            deadline = time.monotonic() + 10
            while not (twilio.sms_sent_to(to) and twilio.calls_to(to)):
                assert time.monotonic() < deadline, "the test SMS and call never reached Twilio"
                time.sleep(0.05)
            play(twilio.sms_to(to), twilio.call_to(to))
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def done(thread: threading.Thread) -> None:
    thread.join(timeout=20)
    for exc in thread.errors:  # type: ignore[attr-defined]
        raise exc


def latest_test() -> PageTest:
    test = session.scalar(select(PageTest).order_by(PageTest.id.desc()))
    assert test is not None
    session.refresh(test)
    return test


def test_alice_gets_the_test_sms_and_call_presses_1_and_the_command_passes(app, twilio, clock):
    def alice(sms, call):
        assert "TEST d'alerte" in sms.body and "aucune alerte en attente" in sms.body
        twilio.status(sms, "sent")
        twilio.status(sms, "delivered")
        answered = twilio.ring(call, "human")
        answered.expect("Bonjour Alice").expect("ceci est un test d'alerte").expect("tapez 1")
        answered.press("1").expect("vos alertes vous parviennent")

    thread = meanwhile(twilio, ALICE, alice)
    result = page_test(app, "alice", "--wait", "20")
    done(thread)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "page test 1 of Alice Martin (alice), 06 12 34 56 78: an SMS and a call" in out
    assert re.search(r"\n +\d+s  sms   SM\w+  queued\n", out)
    assert re.search(r"\n +\d+s  sms   SM\w+  delivered\n", out)
    assert re.search(r"\n +\d+s  call  CA\w+  (in-progress|completed), answered by human\n", out)
    assert re.search(r"\n +\d+s  key   1 pressed: confirmed\n", out)
    assert "passed: Alice's page works (SMS delivered, 1 pressed in the call)." in out
    call = twilio.call_to(ALICE)
    assert call.machine_detection == "Enable"  # placed as a real page is: a voicemail is a failure
    assert latest_test().outcome == "ok" and latest_test().origin == "command"


def test_a_phone_off_and_a_voicemail_fail_the_test_with_what_to_do(app, twilio, clock):
    def phone_off(sms, call):
        twilio.status(sms, "undelivered", error_code="30003")
        twilio.ring(call, "machine")
        twilio.status(call, "completed", answered_by="machine_start")

    thread = meanwhile(twilio, ALICE, phone_off)
    result = page_test(app, "alice", "--wait", "20")
    done(thread)
    assert result.exit_code == 1
    assert "undelivered (Twilio error 30003: the phone is off, or out of coverage)" in result.output
    assert "FAIL  sms failed: the phone is off, or out of coverage" in result.output
    assert "FAIL  call machine: voicemail answered before the person" in result.output
    assert "FAILED: Alice's page does not get through." in result.output
    assert latest_test().outcome == "failed"


def test_when_no_callback_reaches_astreinte_the_command_asks_twilio(app, twilio, clock):
    """PUBLIC_BASE_URL wrong, or a proxy refusing Twilio: the statuses come from looking them up."""

    def unheard(sms, call):
        twilio.now_is(sms, "delivered")
        twilio.now_is(call, "no-answer")

    thread = meanwhile(twilio, ALICE, unheard)
    result = page_test(app, "alice", "--wait", "1")
    done(thread)
    assert " delivered" in result.output and " no-answer" in result.output
    assert "FAIL  call no answer: nobody answered within 25 s" in result.output
    assert result.exit_code == 1


def test_a_call_answered_without_a_key_is_unconfirmed(app, twilio, clock):
    def no_key(sms, call):
        twilio.status(sms, "delivered")
        twilio.ring(call, "human").expect("tapez 1").hangup()

    thread = meanwhile(twilio, ALICE, no_key)
    result = page_test(app, "alice", "--wait", "20")
    done(thread)
    assert result.exit_code == 1
    assert "the call was answered but 1 was not pressed" in result.output
    assert "astreinte check" in result.output
    assert "unconfirmed: Alice's phone was reached, without the proof a page needs." in result.output


def test_an_sms_only_test_refused_by_twilio_says_why(app, twilio, clock):
    twilio.fail_next("sms", status=400, code=21610)
    result = page_test(app, "alice", "--no-call", "--wait", "1")
    assert result.exit_code == 1
    assert "failed (Twilio error 21610: this phone sent STOP to the sending number" in result.output
    assert not twilio.calls_to(ALICE)


def test_in_outbox_mode_the_test_fails_saying_nothing_left(app, org):
    app.config["TWILIO_OUTBOX"] = True  # no Twilio credentials
    result = page_test(app, "bruno", "--wait", "1")
    assert result.exit_code == 1
    assert "local outbox: nothing left this machine" in result.output
    assert latest_test().outcome == "not-sent"


def test_an_unknown_person_is_named_with_the_known_ones(app, org):
    result = page_test(app, "albert")
    assert result.exit_code == 2
    assert "no person 'albert' (known: alice, bruno, chloe, david, emma)" in result.output


def test_the_desk_tests_a_page_from_the_dashboard_and_reads_the_result(app, twilio, clock, client):
    factories.login(client)
    token = factories.csrf(client, "/page-tests")
    client.post("/page-tests", data={"person": "bruno", "csrf_token": token})
    sms, call = twilio.sms_to(BRUNO), twilio.call_to(BRUNO)
    assert "TEST d'alerte (demande du support)" in sms.body
    twilio.status(sms, "delivered")
    twilio.ring(call, "human").expect("Bonjour Bruno").press("1")
    clock.advance(minutes=11)
    sweep()
    page = factories.visible_text(client.get("/page-tests"))
    assert "Bruno Petit tableau de bord · agnes remis terminé · 1 tapé à" in page
    assert "réussi" in page


def test_a_test_asked_for_an_unknown_person_is_refused_with_a_message(app, twilio, client):
    factories.login(client)
    token = factories.csrf(client, "/page-tests")
    response = client.post(
        "/page-tests", data={"person": "nobody", "csrf_token": token}, follow_redirects=True
    )
    assert "Personne inconnue." in factories.visible_text(response)
    assert not twilio.messages and not twilio.calls


def test_ten_presses_of_the_button_send_one_test_until_the_page_intervals_pass(app, twilio, clock, client):
    """Before: 10 presses in 0.2 s sent 10 SMS and 10 calls to one phone (carriers block that)."""
    factories.login(client)
    token = factories.csrf(client, "/page-tests")
    for _ in range(10):
        client.post("/page-tests", data={"person": "bruno", "csrf_token": token})
    assert len(twilio.sms_sent_to(BRUNO)) == 1 and len(twilio.calls_to(BRUNO)) == 1
    assert session.query(PageTest).count() == 1
    clock.advance(seconds=app.config["PAGE_CALL_INTERVAL"] + 1)
    client.post("/page-tests", data={"person": "bruno", "csrf_token": token})
    assert len(twilio.sms_sent_to(BRUNO)) == 2 and len(twilio.calls_to(BRUNO)) == 2
