"""Signed, expiring links: the technician's mobile take-over page, and the voicemail media Twilio plays.

The link is the credential (a technician at night has no dashboard login). It is short, because every
character of a page SMS costs (UCS-2: 67 a segment): the id of the SMS page in base 36 and 12 characters
of an HMAC-SHA256 (72 bits, checked in constant time). The page names the person; the callouts are those
sent in the same SMS (same Twilio SID); the link expires TAKEOVER_LINK_MAX_AGE (12 h) after the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

import clock
from models import Channel, Page, session

LINK_SALT = "astreinte-takeover-link"
MEDIA_SALT = "astreinte-voicemail-media"
SIGNATURE_LENGTH = 12
MEDIA_MAX_AGE = 3600  # a page call plays the message within the hour


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class Link:
    person_id: str
    callout_ids: tuple[int, ...]


class _ClockedSigner(TimestampSigner):
    """Timestamps from the application's clock, so tests and the demo can age a link."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockedSigner)


def _max_age() -> int:
    return int(current_app.config["TAKEOVER_LINK_MAX_AGE"])


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _signature(page_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(key, f"{LINK_SALT}:{page_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_LENGTH]


def make_token(page_id: int) -> str:
    """The token of the link sent in one page SMS (e.g. "c" + 12 characters)."""
    return _base36(page_id) + _signature(page_id)


def read_token(token: str) -> Link:
    """The link's content; LinkExpired or LinkInvalid otherwise."""

    head, signature = token[:-SIGNATURE_LENGTH], token[-SIGNATURE_LENGTH:]
    try:
        page_id = int(head, 36) if head else -1
    except ValueError:
        raise LinkInvalid() from None
    if page_id < 0 or not hmac.compare_digest(signature, _signature(page_id)):
        raise LinkInvalid()
    page = session.get(Page, page_id)
    if page is None or page.channel not in (Channel.SMS, Channel.EMAIL):  # the messages that carry it
        raise LinkInvalid()
    issued = clock.as_utc(page.sent_at or page.created_at)
    if clock.now() - issued > timedelta(seconds=_max_age()):
        raise LinkExpired()
    same_sms = [page]
    if page.twilio_sid:
        same_sms = list(
            session.scalars(
                select(Page)
                .where(Page.twilio_sid == page.twilio_sid, Page.person_id == page.person_id)
                .order_by(Page.id)
            )
        )
    ids: dict[int, None] = dict.fromkeys(p.callout_id for p in same_sms)
    return Link(page.person_id, tuple(ids))


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute URL on PUBLIC_BASE_URL, in a request or not (jobs run in the worker, outside one)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["PUBLIC_BASE_URL"] + adapter.build(endpoint, values)


def takeover_url(page_id: int) -> str:
    """The absolute link sent in the SMS of page `page_id` (on PUBLIC_BASE_URL)."""
    return absolute_url("takeover.takeover_page", token=make_token(page_id))


def media_url(voicemail_id: int) -> str:
    """An absolute, signed URL that streams one voicemail (for <Play> in a page call)."""
    return absolute_url("takeover.voicemail_media", token=_serializer(MEDIA_SALT).dumps(voicemail_id))


def read_media_token(token: str) -> int:
    try:
        return int(_serializer(MEDIA_SALT).loads(token, max_age=MEDIA_MAX_AGE))
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
