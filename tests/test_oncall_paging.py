"""A voicemail pages the on-call technician by SMS and by a call, then the policy runs on the clock:
re-page, backup, breach, escalation levels 1 to 3."""

from __future__ import annotations

from sqlalchemy import select

from models import CalloutState, Page, TicketEvent, session
from oncall.sweeper import sweep

from .factories import told
from .oncall_helpers import ALICE, BRUNO, CHLOE, DAVID, EMMA, leave_voicemail, refreshed
from .twilio_standin import fixtures

app_config, twilio_server, twilio = fixtures()


def test_the_first_page_is_an_sms_and_a_call_to_the_primary(twilio, clock):
    leave_voicemail("104233")
    sms = twilio.sms_to(ALICE)
    assert sms.body.startswith(
        "Astreinte 104233 Boulangerie Dupont prio Élevée : Coupure totale du lien SDSL."
    )
    assert "Avant 23:40." in sms.body  # an absolute deadline: still true however late it is read
    assert "Client : rappel via le lien." in sms.body and "OK 104233" in sms.body  # through astreinte
    assert "https://astreinte.example.test/o/" in sms.body
    call = twilio.call_to(ALICE)
    assert call.url.startswith("https://astreinte.example.test/voice/pages/call")
    assert call.machine_detection == "Enable" and call.status_callback.endswith("/voice/pages/status")
    assert call.from_ == "+33272646172"
    assert not twilio.sms_sent_to(BRUNO) and not twilio.calls_to(BRUNO)


def test_nobody_answers_so_alice_is_called_again_then_bruno_is_paged(twilio, clock):
    leave_voicemail("104233")
    twilio.ring(twilio.call_to(ALICE), answer="no-answer")
    clock.advance(minutes=4)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1
    clock.advance(minutes=1)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 2 and len(twilio.sms_sent_to(ALICE)) == 1  # step 2: voice only
    clock.advance(minutes=5)
    sweep()
    assert twilio.sms_to(BRUNO).body.startswith("Astreinte 104233")
    assert "Avant 23:40" in twilio.sms_to(BRUNO).body
    assert len(twilio.calls_to(BRUNO)) == 1


def test_the_deadline_passes_with_nobody_then_escalation_runs_levels_1_to_3(twilio, clock):
    callout = leave_voicemail("104233")
    clock.advance(minutes=30, seconds=1)
    sweep()
    callout = refreshed(callout)
    assert callout.breached and callout.escalation_level == 0
    assert session.scalar(select(TicketEvent).where(TicketEvent.kind == "breach")) is not None
    clock.advance(minutes=15)
    sweep()
    assert refreshed(callout).escalation_level == 1
    assert "Délai dépassé depuis 23:40" in twilio.sms_to(CHLOE).body
    clock.advance(minutes=15)
    sweep()
    assert refreshed(callout).escalation_level == 2 and twilio.calls_to(DAVID)
    clock.advance(minutes=30)
    sweep()
    assert refreshed(callout).escalation_level == 3
    assert twilio.sms_to(EMMA).body.startswith(
        "On-call 104233 Boulangerie Dupont priority High: Coupure totale du lien SDSL. Overdue since 23:40"
    )
    callout = refreshed(callout)  # after the last step, the policy repeats until someone takes over
    assert callout.state is CalloutState.PAGING and callout.next_action_at is not None


def test_a_page_is_not_sent_for_a_callout_taken_over_before_its_step(twilio, clock):
    callout = leave_voicemail("104233")
    twilio.reply(ALICE, "OK 104233")
    clock.advance(minutes=20)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1 and not twilio.calls_to(BRUNO)
    assert refreshed(callout).state is CalloutState.TAKEN_OVER


def test_every_page_keeps_its_twilio_sid(twilio, clock):
    callout = leave_voicemail("104233")
    pages = session.scalars(select(Page).where(Page.callout_id == callout.id)).all()
    assert {(p.person_id, p.channel.value) for p in pages} == {("alice", "sms"), ("alice", "voice")}
    assert {p.twilio_sid for p in pages} == {twilio.sms_to(ALICE).sid, twilio.call_to(ALICE).sid}


def test_a_cancelled_callout_pages_nobody_any_more(twilio, clock):
    from oncall.callouts import cancel_callouts

    callout = leave_voicemail("104233")
    assert cancel_callouts(callout.ticket_id, "requête résolue par le service desk", actor="desk") == 1
    call = twilio.ring(twilio.call_to(ALICE))
    call.expect("Plus aucune alerte n'est en attente")
    clock.advance(minutes=60)
    sweep()
    assert len(twilio.calls_to(ALICE)) == 1 and not twilio.calls_to(BRUNO)
    callout = refreshed(callout)
    assert callout.state is CalloutState.CANCELLED and not callout.breached


GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def segments(body: str) -> int:
    """How many SMS Twilio bills: GSM-7 160/153 a segment, else UCS-2 70/67 (UTF-16 code units)."""
    if set(body) <= GSM7:
        return 1 if len(body) <= 160 else -(-len(body) // 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def test_the_page_sms_keeps_its_accents_and_fits_two_segments(twilio, clock):
    leave_voicemail("104233")
    body = twilio.sms_to(ALICE).body
    assert "Élevée" in body and "Répondez" in body  # É and é are GSM-7: never mangled to "?"
    assert segments(body) == 2, (len(body), body)
    token = body.rsplit(" ", 1)[-1].removeprefix("https://astreinte.example.test/o/")
    assert len(token) <= 14, token  # a 13-character signed token, not 50


def test_the_replies_to_a_technician_fit_two_segments(twilio, clock):
    leave_voicemail("104233")
    leave_voicemail("104240")
    answers = [twilio.reply(BRUNO, body)[1] for body in ("OK", "j'arrive")]
    answers.append(twilio.reply(ALICE, "OK")[1])
    for answer in answers:
        text = (
            answer.split("<Message>")[1].split("</Message>")[0].replace("&#x27;", "'").replace("&#39;", "'")
        )
        assert segments(text) <= 2, (len(text), text)  # "requête": UCS-2, 67 a segment


def test_a_client_name_with_a_cedilla_is_folded_to_gsm7_and_fits_two_segments(twilio, clock):
    from models import Ticket

    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    ticket.client.name = "Boucherie Françoise"  # ç is not GSM-7: it would turn the SMS into UCS-2
    ticket.subject = (
        "Pêche à la ligne : coupure " + "très longue " * 20
    )  # 267 characters: the column holds 300
    session.commit()
    leave_voicemail("104233")
    body = twilio.sms_to(ALICE).body
    assert "Boucherie Francoise" in body and "Peche" in body and segments(body) == 2, (len(body), body)
    assert body.endswith(" ou " + body.rsplit(" ", 1)[-1]) and "https://" in body  # the link is whole


def test_a_bundle_of_many_alerts_is_summarised_within_three_segments():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from words.pages import Alert, page_sms

    now = datetime(2026, 11, 24, 22, 10, tzinfo=UTC)
    alerts = [
        Alert(
            str(104000 + i),
            "Boulangerie Dupont",
            "SDSL-4471",
            "Élevée",
            "+33611223344",
            now + timedelta(minutes=30),
            now.astimezone(ZoneInfo("Europe/Paris")),
            "Coupure",
        )
        for i in range(6000)
    ]
    link = "https://astreinte.example.test/o/1_qS8-CCpPlra"
    for count in (47, 6000):  # were 3,516 characters (Twilio: 21617) and 438 kB
        body = page_sms("fr", alerts[:count], link, now)
        assert segments(body) <= 3 and len(body) <= 1600, (len(body), body)
        assert f"Astreinte : {count} alertes." in body and "autres : ouvrez le lien" in body
        assert body.endswith(link)


def test_a_bundle_of_two_alerts_is_one_sms_whose_short_link_opens_both(twilio, clock, client):
    first = leave_voicemail("104233", page=False)
    second = leave_voicemail("104240", page=False)
    sweep()
    body = twilio.sms_to(ALICE).body
    assert segments(body) == 2, (len(body), body)  # GSM-7: 153 characters a segment
    html = client.get(body.rsplit(" ", 1)[-1].removeprefix("https://astreinte.example.test")).get_data(
        as_text=True
    )
    assert f'id="callout-{first.id}"' in html and f'id="callout-{second.id}"' in html
    assert "Appeler le client via l&#39;astreinte" in html and "tel:" not in html  # the support number shows
    assert f'action="/o/{body.rsplit("/", 1)[-1]}/call/{first.id}"' in html


def test_a_callout_the_desk_stops_in_the_morning_after_a_missed_night_stays_breached(twilio, clock, client):
    from oncall.callouts import cancel_callouts

    callout = leave_voicemail("104233")
    clock.advance(hours=9)  # nobody took it over; the desk resolves the ticket at 08:10
    sweep()
    assert cancel_callouts(callout.ticket_id, "requête résolue par le service desk", actor="desk") == 1
    callout = refreshed(callout)
    assert callout.state is CalloutState.CANCELLED and callout.breached
    assert "astreinte_callouts_breached_total 1.0" in client.get("/metrics").get_data(as_text=True)


def test_nobody_is_left_unpaged_for_more_than_ten_minutes_until_someone_takes_over(twilio, clock):
    """The example policy repeats (astreinte.repeat: every 10m): minute by minute through the night,
    someone is paged at least every 10 minutes (was: nothing between T+10 and T+45)."""
    callout = leave_voicemail("104233")
    opened = clock.now()
    for _ in range(75):
        clock.advance(minutes=1)
        sweep()
    times = sorted(
        {
            int((p.created_at - opened).total_seconds() // 60)
            for p in session.scalars(select(Page).where(Page.callout_id == callout.id))
        }
    )
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert times[:6] == [0, 5, 10, 20, 30, 40] and max(gaps) <= 10, times
    repeats = session.scalars(select(TicketEvent).where(TicketEvent.kind == "page")).all()
    assert any((e.data or {}).get("repeat") for e in repeats)
    assert refreshed(callout).escalation_level == 2  # the escalation steps still run on their clock


def test_a_missed_resolution_target_escalates_to_the_supervisor_once(twilio, clock):
    from models import Ticket

    session.scalar(select(Ticket).where(Ticket.number == "104233")).opened_at = clock.now()
    session.commit()
    callout = leave_voicemail("104233")
    twilio.reply(ALICE, "OK 104233")  # taken over in time: only the resolution target is left
    clock.advance(hours=3, minutes=59)
    sweep()
    assert not twilio.sms_sent_to(CHLOE)
    clock.advance(minutes=2)  # high priority: resolved within 4 h of the ticket's opening
    sweep()
    sweep()
    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == callout.ticket_id)).all()
    breaches = [e for e in events if e.kind == "breach" and (e.data or {}).get("clock") == "resolution"]
    escalations = [
        e for e in events if e.kind == "escalation" and (e.data or {}).get("clock") == "resolution"
    ]
    assert len(breaches) == 1 and len(escalations) == 1 and escalations[0].data["person"] == "chloe"
    assert twilio.sms_to(CHLOE).body.startswith(
        "Escalade : 104233 Boulangerie Dupont (Coupure totale du lien SDSL) non résolue"
    )
    assert twilio.sms_to(CHLOE).body.endswith("https://astreinte.example.test/tickets/104233")  # one tap away


def test_a_major_incident_pages_the_supervisor_at_once_beside_the_on_call_technician(twilio, clock):
    from models import Ticket

    session.scalar(select(Ticket).where(Ticket.number == "104233")).major_incident = True
    session.commit()
    callout = leave_voicemail("104233")
    assert twilio.sms_to(ALICE) and twilio.sms_to(CHLOE)  # both at the message, not after a breach
    assert refreshed(callout).escalation_level == 1
    events = session.scalars(select(TicketEvent).where(TicketEvent.kind == "escalation_request")).all()
    assert [told(e) for e in events] == ["Incident majeur : escalade immédiate"]


def test_a_resolution_still_missed_climbs_to_the_manager_then_the_director(twilio, clock):
    """High priority: the supervisor at the breach, the manager 30 min after it, the director 1 h after
    (escalate_after_breach: 15m, 30m, 1h), each once; a resolved ticket climbs no further."""
    from models import Ticket

    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    ticket.opened_at = clock.now()
    ticket.taken_over_at = clock.now()  # worked on, yet not resolved (an untaken one would page the night)
    session.commit()
    clock.advance(hours=4, minutes=1)
    sweep()
    assert twilio.sms_sent_to(CHLOE) and not twilio.sms_sent_to(DAVID)
    clock.advance(minutes=29)
    sweep()
    assert not twilio.sms_sent_to(DAVID)
    clock.advance(minutes=2)
    sweep()
    sweep()
    assert len(twilio.sms_sent_to(DAVID)) == 1
    assert twilio.sms_to(DAVID).body.startswith("Escalade : 104233 Boulangerie Dupont")
    clock.advance(minutes=30)
    sweep()
    assert len(twilio.sms_sent_to(EMMA)) == 1
    assert twilio.sms_to(EMMA).body.startswith("Escalation: ticket 104233 Boulangerie Dupont")
    assert len(twilio.sms_sent_to(CHLOE)) == 1  # each level once


def test_a_failed_escalation_sms_is_tried_again_once_its_back_off_has_passed(twilio, clock):
    from models import Ticket

    ticket = session.scalar(select(Ticket).where(Ticket.number == "104233"))
    ticket.opened_at = clock.now()
    ticket.taken_over_at = clock.now()  # worked on, yet not resolved (an untaken one would page the night)
    session.commit()
    clock.advance(hours=4, minutes=1)
    twilio.fail_next("sms", status=503, code=20503)
    sweep()
    assert not twilio.sms_sent_to(CHLOE)
    clock.advance(seconds=10)
    sweep()
    assert not twilio.sms_sent_to(CHLOE)  # the outbox's back-off: 30 s before the second try
    clock.advance(seconds=20)
    sweep()
    assert len(twilio.sms_sent_to(CHLOE)) == 1
    clock.advance(seconds=10)
    sweep()
    assert len(twilio.sms_sent_to(CHLOE)) == 1
