"""The evening test: at `astreinte.self_test.at`, those on call get a test page; a pager that stays
silent is texted to the supervisor once and shown to the desk, before the night needs it."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from models import PageTest, session
from oncall.sweeper import sweep
from org.load import load
from org.orgfile import OrgFileError, parse
from tests import factories
from tests.conftest import ORG_FILE

from .oncall_helpers import ALICE, BRUNO, CHLOE, leave_voicemail
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()

TUESDAY_EVENING = "2026-11-24 18:06"  # Alice is primary this week, Bruno backup


def evening_tests() -> list[PageTest]:
    return list(session.scalars(select(PageTest).where(PageTest.origin == "evening").order_by(PageTest.id)))


text = factories.visible_text


def test_at_18_05_those_on_call_get_one_test_sms_each(twilio, clock):
    clock.set(TUESDAY_EVENING)
    sweep()
    sweep()  # every 10 s in the worker: still one test each
    for number in (ALICE, BRUNO):
        [sms] = twilio.sms_sent_to(number)
        assert "TEST d'alerte (test du soir), aucune alerte en attente" in sms.body
    assert not twilio.calls  # `by: [sms]` in the example: no call at dinner time
    assert [t.person_id for t in evening_tests()] == ["alice", "bruno"]


def test_a_pager_that_stays_silent_is_told_to_the_supervisor_once_and_shown_on_the_desk(
    app, twilio, clock, client
):
    clock.set(TUESDAY_EVENING)
    sweep()
    twilio.status(twilio.sms_to(ALICE), "delivered")
    twilio.status(twilio.sms_to(BRUNO), "undelivered", error_code="30003")
    clock.advance(minutes=11)
    sweep()
    sweep()
    assert [(t.person_id, t.outcome) for t in evening_tests()] == [("alice", "ok"), ("bruno", "failed")]
    [warning] = [m for m in twilio.sms_sent_to(CHLOE) if "test d'alerte du soir" in m.body]
    assert warning.body == (
        "Astreinte : le test d'alerte du soir de Bruno Petit a échoué (SMS non remis, erreur 30003 : téléphone éteint ou hors réseau). "
        "Vérifiez son téléphone avant la nuit."
    )
    health = client.get("/healthz").get_json()
    assert client.get("/healthz").status_code == 200  # a business warning, never an outage
    # Anyone reaches /healthz: it says a test failed, never whose (before, it named Bruno Petit).
    assert (
        "test d'alerte en échec le 24/11 18:06 (SMS non remis, erreur 30003 : téléphone éteint ou hors réseau)"
        in health["warnings"]
    )
    assert not any("Bruno" in w for w in health["warnings"])
    app.config["METRICS_TOKEN"] = "m" * 40  # the operator's monitoring holds the token: names
    named = client.get("/healthz", headers={"Authorization": "Bearer " + "m" * 40}).get_json()
    assert any("Bruno Petit" in w and "30003" in w for w in named["warnings"])
    app.config["METRICS_TOKEN"] = None
    assert "\nastreinte_pagers_failing 1.0\n" in client.get("/metrics").get_data(as_text=True)
    factories.login(client)
    now = text(client.get("/now"))  # the banner of every page
    assert (
        "test d'alerte de Bruno Petit en échec le 24/11 18:06 (SMS non remis, erreur 30003 : téléphone éteint ou hors réseau)"
        in now
    )
    assert "De garde : Alice Martin (alerte testée 24/11 18:06 : réussi)" in now
    assert "renfort : Bruno Petit (alerte testée 24/11 18:06 : échec)" in now
    tests = text(client.get("/page-tests"))
    assert (
        "Bruno Petit test du soir non remis · erreur 30003 : téléphone éteint ou hors réseau — échec · SMS non remis, erreur 30003 : téléphone éteint ou hors réseau"
        in tests
    )


def test_a_test_without_any_receipt_fails_after_ten_minutes_once_twilio_is_asked(twilio, clock):
    clock.set(TUESDAY_EVENING)
    sweep()
    twilio.now_is(twilio.sms_to(ALICE), "delivered")  # no callback reached astreinte: a look-up finds it
    clock.advance(minutes=9)
    sweep()
    assert all(t.outcome is None for t in evening_tests())
    clock.advance(minutes=2)
    sweep()
    outcomes = {t.person_id: t.outcome for t in evening_tests()}
    assert outcomes == {"alice": "ok", "bruno": "unconfirmed"}  # "sent", with no receipt: reached, unproven


def test_no_test_sms_while_a_callout_is_paging_it_waits_for_the_takeover(twilio, clock, client):
    clock.set("2026-11-24 18:00")
    leave_voicemail("104233")  # a real page at 18:00: alice is being paged
    clock.set(TUESDAY_EVENING)
    sweep()
    assert not evening_tests()
    assert all("TEST" not in m.body for m in twilio.sms_sent_to(ALICE))
    twilio.reply(ALICE, "OK 104233")
    clock.advance(minutes=5)
    sweep()
    assert [t.person_id for t in evening_tests()] == ["alice", "bruno"]


def test_no_evening_test_outside_its_hour(twilio, clock):
    clock.set("2026-11-24 19:10")  # the worker was down at 18:05: tonight's test is skipped, not sent late
    sweep()
    assert not twilio.messages and not evening_tests()


def test_the_evening_test_can_call_too(app, twilio, clock):
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["astreinte"]["self_test"] = {"at": "18:05", "notify": ["primary"], "by": ["sms", "voice"]}
    load(doc)
    clock.set(TUESDAY_EVENING)
    sweep()
    call = twilio.call_to(ALICE)
    twilio.ring(call, "human").expect("Bonjour Alice").press("1").expect("vos alertes vous parviennent")
    twilio.status(twilio.sms_to(ALICE), "delivered")
    assert not twilio.sms_sent_to(BRUNO)  # only the primary
    clock.advance(minutes=11)
    sweep()
    assert [(t.person_id, t.outcome) for t in evening_tests()] == [("alice", "ok")]


@pytest.mark.parametrize(
    ("self_test", "problem"),
    [
        ({"at": "25:00"}, "astreinte.self_test.at"),
        ({"at": "18:05", "by": ["fax"]}, "astreinte.self_test.by: expected a list of channels"),
        ({"at": "18:05", "notify": ["boss"]}, "astreinte.self_test.notify: expected a list of positions"),
        ({"at": "18:05", "every": "1d"}, "astreinte.self_test.every: unknown key"),
    ],
)
def test_the_organisation_file_refuses_a_bad_evening_test(self_test, problem):
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["astreinte"]["self_test"] = self_test
    with pytest.raises(OrgFileError) as refused:
        parse(doc)
    assert problem in str(refused.value)
