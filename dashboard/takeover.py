"""The technician's mobile take-over page, opened from the link in a page SMS (signed, expiring), and
the voicemail media it plays (streamed by the application: Twilio's URL never leaves the server)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, abort, render_template, stream_with_context

import clock
from models import Callout, Channel, Person, Voicemail, session
from oncall.callback import calling
from oncall.links import Link, LinkExpired, LinkInvalid, read_media_token, read_token
from oncall.paging import alert_of
from oncall.takeover import Takeover, first_name, take_over
from oncall.voicemails import caller_gets_sms
from org.load import current_org
from voice.callback import call_technician
from voice.recordings import open_media
from words.catalogue import text
from words.pages import time_left

bp = Blueprint("takeover", __name__, template_folder="templates")


@bp.after_request
def _headers(response: Response) -> Response:
    """The link is the credential: never framed (its button could be clickjacked), never cached, and
    never sent on as a Referer."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _open(token: str) -> tuple[Link, Person] | Response:
    try:
        link = read_token(token)
    except LinkExpired:
        return _refused("web_expired", 410)
    except LinkInvalid:
        return _refused("web_invalid", 404)
    person = session.get(Person, link.person_id)
    if person is None or not person.active:
        return _refused("web_invalid", 404)
    return link, person


def _refused(key: str, status: int) -> Response:
    html = render_template("takeover/refused.html", message=text(key, "fr"), message_en=text(key, "en"))
    return Response(html, status=status)


def _render(
    token: str,
    link: Link,
    person: Person,
    result: Takeover | None = None,
    status: int = 200,
    message: str | None = None,
) -> Response:
    org = current_org()
    lang = person.language
    now = clock.now()
    items = []
    for callout_id in link.callout_ids:
        callout = session.get(Callout, callout_id)
        if callout is None:
            continue
        alert = alert_of(callout, lang, org)
        holder = None
        if callout.taken_over_at is not None:
            holder = text(
                "web_yours" if callout.taken_over_by == person.id else "web_already",
                lang,
                name=first_name(callout.taker),
                time=f"{callout.taken_over_at.astimezone(org.timezone):%H:%M}",
            )
        items.append(
            {
                "callout": callout,
                "alert": alert,
                "left": time_left(lang, alert.due_at, now),
                "deadline": f"{alert.due_at.astimezone(org.timezone):%H:%M}",
                "holder": holder,
            }
        )
    notice = None
    mine = result is not None and result.by is not None and result.by.id == person.id  # won, or a 2nd tap
    if result is not None and mine and result.at is not None:
        texted = "web_client_texted" if caller_gets_sms(result.callout) else "web_client_not_texted"
        notice = (
            text(
                "web_taken",
                lang,
                ticket=result.callout.ticket.number,
                time=f"{result.at.astimezone(org.timezone):%H:%M}",
            )
            + " "
            + text(texted, lang)
        )
    elif result is not None and result.at is not None:
        notice = text(
            "web_already",
            lang,
            name=first_name(result.by),
            time=f"{result.at.astimezone(org.timezone):%H:%M}",
        )
    elif result is not None:
        notice = text("web_cancelled", lang)
    notice = message or notice
    html = render_template(
        "takeover/takeover.html",
        token=token,
        person=person,
        items=items,
        notice=notice,
        won=mine,
        lang=lang,
        t=lambda key, **kw: text(key, lang, **kw),
    )
    return Response(html, status=status)


@bp.get("/o/<token>")
def takeover_page(token: str) -> Response:
    opened = _open(token)
    if isinstance(opened, Response):
        return opened
    return _render(token, *opened)


def _callout_in(token: str, callout_id: int) -> Response | tuple[Link, Person, Callout]:
    """The link's person and one of its callouts, or the answer that refuses them."""
    opened = _open(token)
    if isinstance(opened, Response):
        return opened
    link, person = opened
    callout = session.get(Callout, callout_id)
    if callout is None or callout_id not in link.callout_ids:
        return _refused("web_not_in_link", 404)
    return link, person, callout


@bp.post("/o/<token>/take/<int:callout_id>")
def take(token: str, callout_id: int) -> Response:
    found = _callout_in(token, callout_id)
    if isinstance(found, Response):
        return found
    link, person, callout = found
    result = take_over(callout, person, Channel.WEB)
    mine = result.by is not None and result.by.id == person.id
    return _render(token, link, person, result, 200 if mine else 409)


@bp.post("/o/<token>/call/<int:callout_id>")
def call_client(token: str, callout_id: int) -> Response:
    """Call the client through astreinte: we call the technician, then the client, from the support
    number (no `tel:` link: the technician's own number stays private); paging waits meanwhile."""
    found = _callout_in(token, callout_id)
    if isinstance(found, Response):
        return found
    link, person, callout = found
    if calling(callout):  # a second tap (or a second technician) while the first call is on
        return _render(token, link, person, status=409, message=text("web_call_busy", person.language))
    if call_technician(callout, person):
        return _render(
            token, link, person, message=text("web_calling_you", person.language, phone=person.phone)
        )
    return _render(token, link, person, status=409, message=text("web_call_failed", person.language))


@bp.get("/o/<token>/voicemail/<int:callout_id>")
def link_voicemail(token: str, callout_id: int) -> Response:
    found = _callout_in(token, callout_id)
    if isinstance(found, Response):
        return found
    voicemail = found[2].voicemail
    if voicemail is None:
        abort(404, "no message: the ticket itself opened this alert")
    return _stream(voicemail)


@bp.get("/o/media/<token>")
def voicemail_media(token: str) -> Response:
    """What <Play> fetches in a page call (Twilio sends no signature on media requests)."""
    try:
        voicemail = session.get(Voicemail, read_media_token(token))
    except LinkExpired:
        abort(410, "this link has expired")
    except LinkInvalid:
        abort(404, "unknown recording")
    if voicemail is None:
        abort(404, "unknown recording")
    return _stream(voicemail)


def _stream(voicemail: Voicemail) -> Response:
    media = open_media(voicemail)
    if media is None:
        abort(404, "this message is not available any more")
    chunks, mimetype = media

    def generate() -> Iterator[bytes]:
        yield from chunks

    response = Response(stream_with_context(generate()), mimetype=mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    return response
