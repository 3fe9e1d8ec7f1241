"""The /now page when a caller rings twice about the same ticket: one card for the ticket, both
messages in it, and each page (a page call bundling both messages too) listed once."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import Callout, Channel, Page, Person, session
from oncall.takeover import take_over

from . import factories
from .phone import up_to_the_beep

text = factories.visible_text


def cards(html: str) -> list[str]:
    """The open-callout cards of /now, as visible text."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card)).strip()
        for card in re.findall(r'<article class="card callout[^"]*".*?</article>', html, flags=re.S)
    ]


def twice(phone, clock) -> None:
    """Isabelle leaves a message on 104233 at 23:10, then again at 23:15."""
    up_to_the_beep(phone).record(seconds=20).press("1")
    clock.advance(minutes=5)
    up_to_the_beep(phone).record(seconds=12).press("1")
    clock.advance(minutes=2)


def test_a_caller_who_rang_twice_is_one_card_with_both_messages(app, client, phone, clock):
    twice(phone, clock)
    factories.login(client)
    html = client.get("/now").get_data(as_text=True)
    shown = cards(html)
    assert len(shown) == 1, shown
    card = shown[0]
    assert card.startswith("Requête 104233 · Boulangerie Dupont")
    assert "2 messages" in card
    assert "message à 23:10" in card and "message à 23:15" in card
    assert "reste 23 min échéance 23:40" in card  # the first message's promise is the one that runs out
    assert html.count("<audio") == 2


def test_a_page_call_bundling_both_messages_is_listed_once(app, client, phone, clock):
    twice(phone, clock)
    factories.login(client)
    html = client.get("/now").get_data(as_text=True)
    sids = set(session.scalars(select(Page.twilio_sid).where(Page.twilio_sid.is_not(None))))
    bundled = [
        sid
        for sid in sids
        if session.scalar(select(Page.id).where(Page.twilio_sid == sid).offset(1).limit(1))
    ]
    assert bundled, "the second message should ride on Alice's next page call"
    for sid in sids:
        assert html.count(sid) == 1, sid


def test_once_both_messages_are_taken_over_the_night_lists_each_message_once(app, client, phone, clock):
    twice(phone, clock)
    alice = session.get(Person, "alice")
    for callout in session.scalars(select(Callout).order_by(Callout.id)).all():
        take_over(callout, alice, Channel.VOICE)
    factories.login(client)
    page = text(client.get("/now"))
    assert "Aucune astreinte en attente de prise en charge." in page
    assert page.count("Alice Martin · appel · 23:17") == 2
    assert "24/11 23:10 104233" in page and "24/11 23:15 104233" in page
