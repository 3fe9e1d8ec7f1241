"""Tests of a person's page: a test SMS and a test call through the whole path, so that a silent
pager is found in daylight, not at 3 a.m. when a client waits.

A test is asked for by an operator (`astreinte page test PERSON`), by the desk in the dashboard, or
runs every evening for the people then on call (`astreinte.self_test` in the organisation file). This
room sends it through the outbox (job `send_test`: the first carrier of each channel, the one pages try
first; a temporary failure is tried again by the outbox like any message) and judges what the
carrier's room writes back (its status callbacks, and the look-up registered with `register_look_up`): `ok` when the SMS was delivered and the person pressed 1 in the call, `unconfirmed` when the
phone was reached but the proof is missing (an SMS without a delivery receipt, a call answered with no
key), `failed` when the SMS or the call did not reach the person. A failed evening test is texted to
the supervisor, once (the outbox tries that SMS again on failure), and shows on the dashboard and in /healthz until a later test of that person
passes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

import clock
import tasks
from models import (
    Callout,
    CalloutState,
    Channel,
    MessageState,
    OutgoingMessage,
    PageTest,
    Person,
    changed,
    session,
)
from oncall import carriers, outbox, policy, retries
from oncall.carriers import Outgoing
from oncall.rota import who_is_on_call
from oncall.sending import text_once
from org.load import NoOrganisation, current_org
from words.carriers import carrier_error
from words.catalogue import text
from words.pagetests import test_page_sms
from words.ui import label, t

log = logging.getLogger(__name__)

SENDING = MessageState.SENDING.value
EVENING_WINDOW = timedelta(hours=1)  # an evening test missed by more (the worker was down) waits a day
VERDICT_AFTER = timedelta(minutes=10)  # an evening test is judged this long after it left
SHOWN_FOR = timedelta(days=7)

# The carrier's statuses (kept as they came) that settle each channel.
SMS_REACHED = {"delivered", "read"}
SMS_FAILED = {"failed", "undelivered", "canceled"}
CALL_FAILED = {"busy", "no-answer", "failed", "canceled", "machine"}
NOT_SENT = "outbox"  # the local outbox: nothing left the machine


def channels_of(test: PageTest) -> tuple[str, ...]:
    return tuple(test.channels.split())


def start(
    person: Person,
    by: tuple[str, ...],
    origin: str,
    requested_by: str | None = None,
    night: str | None = None,
) -> PageTest | None:
    """Write a new test of `person`'s page (committed; the sender sends it). None when this evening's
    test of that person exists already (another worker's sweeper wrote it). A test asked for again
    before PAGE_SMS_INTERVAL / PAGE_CALL_INTERVAL have passed since the last one to that number is
    that last one: carriers block a number that insists, as they would for pages."""
    if origin != "evening" and (recent_one := _recent_test(person.phone)) is not None:
        log.info("page test of %s asked again too soon: test %d stands", person.id, recent_one.id)
        return recent_one
    test = PageTest(
        person_id=person.id,
        origin=origin,
        requested_by=requested_by,
        night=night,
        to_number=person.phone,
        channels=" ".join(ch for ch in ("sms", "voice") if ch in by),
    )
    session.add(test)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    log.info("page test %d of %s (%s): %s", test.id, person.id, origin, test.channels)
    return test


@tasks.job("send_test", urgent=True)
def send_test(test_id: int) -> None:
    """Send the test SMS and place the test call, once: the test is claimed before any request."""
    claimed = changed(
        update(PageTest)
        .where(PageTest.id == test_id, PageTest.sms_status.is_(None), PageTest.call_status.is_(None))
        .values(sms_status=SENDING, call_status=SENDING)
    )
    session.commit()
    test = session.get(PageTest, test_id)
    if not claimed or test is None:
        return
    session.refresh(test)
    wanted = channels_of(test)
    test.sms_status = SENDING if "sms" in wanted else None
    test.call_status = SENDING if "voice" in wanted else None
    session.commit()
    ids: dict[str, int | str] = {"test": test.id}
    for channel in (Channel.SMS, Channel.VOICE):
        if channel.value not in wanted:
            continue
        body = test_page_sms(test.person.language, test.origin) if channel is Channel.SMS else ""
        message = Outgoing(channel, test.to_number, body, about="page_test", ids=ids)
        first = next(iter(carriers.for_channel(channel)), None)  # the carrier pages try first
        topic = f"page_test:{test.id}:{channel.value}"
        retries.once("page_test", message, topic, test.person_id, first.name if first else None, test=test.id)


@retries.when_settled("page_test")
def _test_message_settled(message: OutgoingMessage) -> None:
    """What came of the test SMS or call (sent, or failed for good) goes on the test."""
    facts = message.details or {}
    test = session.get(PageTest, facts.get("test"))
    if test is None:
        return
    sent = bool(message.carrier_id) and message.state not in outbox.NOT_REACHED
    status = str(facts.get("status") or "queued")[:24] if sent else "failed"
    error = None if sent else str(facts.get("code") or "network")
    if message.channel is Channel.SMS:
        test.sms_sid, test.sms_status, test.sms_error = message.carrier_id, status, error
    else:
        test.call_sid = test.call_sid or message.carrier_id
        test.call_status, test.call_error = status, error
    if not sent:
        log.warning("page test %d: the %s was refused (%s)", test.id, message.channel.value, error)
    if NOT_SENT in (test.sms_status, test.call_status):
        finish(test)


def register_look_up(app: Flask, look_up: Callable[[PageTest], None]) -> None:
    """The carrier's room says how to ask it the statuses no callback brought (registered like a
    carrier: the application holds it, this room never names it)."""
    app.extensions["page_test_look_up"] = look_up


def look_up(test: PageTest) -> None:
    """Ask the carrier the statuses of the test's SMS and call (their callbacks never came)."""
    asked: Callable[[PageTest], None] | None = current_app.extensions.get("page_test_look_up")
    if asked is not None:
        asked(test)


def _recent_test(number: str) -> PageTest | None:
    config = current_app.config
    interval = max(int(config["PAGE_SMS_INTERVAL"]), int(config["PAGE_CALL_INTERVAL"]))
    since = clock.now() - timedelta(seconds=interval)
    return session.scalar(
        select(PageTest)
        .where(PageTest.to_number == number, PageTest.created_at > since)
        .order_by(PageTest.id.desc())
        .limit(1)
    )


def problems(test: PageTest, final: bool) -> list[str]:
    """What went wrong so far, as codes (`sms-failed`, `call-no-answer`…); `final`: the waiting is
    over, so a channel the carrier never settled is a problem too."""
    found = []
    wanted = channels_of(test)
    if "sms" in wanted:
        if test.sms_status in SMS_FAILED:
            found.append("sms-failed")
        elif final and test.sms_status not in SMS_REACHED | {"sent", NOT_SENT}:
            found.append("sms-silent")
    if "voice" in wanted and test.confirmed_at is None:
        if test.call_status in CALL_FAILED:
            found.append(f"call-{test.call_status}")
        elif final and not (test.answered_by == "human" or test.call_status in ("in-progress", "completed")):
            found.append("call-silent")
    return found


def settled(test: PageTest) -> bool:
    """Every channel has had its last word: no need to wait longer."""
    wanted = channels_of(test)
    sms_done = "sms" not in wanted or test.sms_status in SMS_REACHED | SMS_FAILED | {NOT_SENT}
    call_done = (
        "voice" not in wanted
        or test.confirmed_at is not None
        or test.call_status in CALL_FAILED | {"completed", NOT_SENT}
    )
    return sms_done and call_done


def verdict(test: PageTest, final: bool = True) -> str:
    if NOT_SENT in (test.sms_status, test.call_status):
        return "not-sent"
    if problems(test, final):
        return "failed"
    wanted = channels_of(test)
    sms_ok = "sms" not in wanted or test.sms_status in SMS_REACHED
    call_ok = "voice" not in wanted or test.confirmed_at is not None
    return "ok" if sms_ok and call_ok else "unconfirmed"


def what_failed(test: PageTest, lang: str) -> str:
    """The problems as people read them: "SMS non remis, erreur 30003 : téléphone éteint ou hors réseau,
    appel sans réponse"."""
    parts = []
    for code in problems(test, final=True):
        error = test.sms_error if code.startswith("sms") else test.call_error
        parts.append(
            label("page_test_problem", code, lang) + (f", {carrier_error(error, lang)}" if error else "")
        )
    return ", ".join(parts)


def finish(test: PageTest) -> str:
    """Judge the test (the waiting is over) and, for a failed evening test, text the supervisor."""
    if test.outcome is None:
        test.outcome = verdict(test)
        test.finished_at = clock.now()
        session.commit()
        log.info("page test %d of %s: %s", test.id, test.person_id, test.outcome)
    if test.outcome == "failed" and test.origin == "evening":
        _warn_supervisor(test)
    return test.outcome


def _warn_supervisor(test: PageTest) -> None:
    supervisor = policy.supervisor_to_tell()
    if supervisor is None:
        return
    lang = supervisor.language
    body = text("test_failed_sms", lang, name=test.person.name, what=what_failed(test, lang))
    # Once per test; a failure is the outbox's to try again, like every message.
    text_once("page_test_failed", supervisor.phone, body, f"page_test_failed:{test.id}", supervisor.id)


# --- every evening ----------------------------------------------------------------------------


def evening_due(now: datetime) -> list[tuple[Person, str]]:
    """(person, night) of each evening test due now and not yet written: the people on call at the
    test's time today, within an hour of it. None while a callout is paging: the test SMS says that
    no alert is waiting, and the night's real pages are the test (it runs when they are over)."""
    org = current_org()
    setting = org.self_test
    if setting is None:
        return []
    local = now.astimezone(org.timezone)
    at = local.replace(hour=setting.at.hour, minute=setting.at.minute, second=0, microsecond=0)
    if not at <= local < at + EVENING_WINDOW:
        return []
    if session.scalar(select(Callout.id).where(Callout.state == CalloutState.PAGING).limit(1)) is not None:
        return []
    night = at.date().isoformat()
    done = set(session.scalars(select(PageTest.person_id).where(PageTest.night == night)))
    on_call = who_is_on_call(org, at)
    due = []
    for position in setting.notify:
        person = session.get(Person, on_call[position] or "")
        if person is not None and person.active and person.phone and person.id not in done:
            done.add(person.id)
            due.append((person, night))
    return due


def sweep(now: datetime) -> int:
    """The sweeper's share: start the evening tests due, and judge the tests whose time is up (their
    statuses asked of the carrier first, when no callback brought them). Returns tests started."""
    try:
        due = evening_due(now)
    except NoOrganisation:
        return 0
    setting = current_org().self_test
    started = 0
    for person, night in due:
        assert setting is not None
        test = start(person, setting.by, "evening", night=night)
        if test is not None:
            tasks.enqueue(send_test, test.id)
            started += 1
    for test in session.scalars(
        select(PageTest).where(PageTest.outcome.is_(None), PageTest.created_at <= now - VERDICT_AFTER)
    ).all():
        if not settled(test):
            look_up(test)
        finish(test)
    return started


# --- what the dashboard shows ---------------------------------------------------------------------


def recent(now: datetime) -> list[PageTest]:
    """The tests of the last 7 days, newest first."""
    return list(
        session.scalars(
            select(PageTest).where(PageTest.created_at >= now - SHOWN_FOR).order_by(PageTest.id.desc())
        )
    )


def latest_by_person(now: datetime) -> dict[str, PageTest]:
    """Each person's latest judged test of the last 7 days (a test from the local outbox proves nothing)."""
    latest: dict[str, PageTest] = {}
    for test in recent(now):
        if test.outcome is not None and test.outcome != "not-sent":
            latest.setdefault(test.person_id, test)
    return latest


def failing(now: datetime) -> list[PageTest]:
    """Each person whose latest test of the last 7 days failed: their pager may be silent."""
    return [t for t in latest_by_person(now).values() if t.outcome == "failed"]


def warnings(now: datetime, lang: str = "fr", named: bool = True) -> list[str]:
    """A line for each person whose pager failed its latest test: for /healthz and the banner.
    `named=False` (an unauthenticated /healthz) says that a test failed, never whose."""
    try:
        tz = current_org().timezone
    except NoOrganisation:
        return []
    return [
        t(
            "test d'alerte de {name} en échec le {day} ({what})"
            if named
            else "test d'alerte en échec le {day} ({what})",
            lang,
            name=test.person.name,
            day=test.created_at.astimezone(tz).strftime("%d/%m %H:%M"),
            what=what_failed(test, lang),
        )
        for test in failing(now)
    ]
