"""Signed, expiring links: the technician's mobile take-over page, and the voicemail media Twilio plays.

The link is the credential (a technician at night has no dashboard login): it names one person and
the callouts paged to them, and it expires (TAKEOVER_LINK_MAX_AGE, 12 h by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

import clock

LINK_SALT = "astreinte-takeover-link"
MEDIA_SALT = "astreinte-voicemail-media"
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


def make_token(person_id: str, callout_ids: list[int] | tuple[int, ...]) -> str:
    return _serializer(LINK_SALT).dumps(f"{person_id}:{'.'.join(str(i) for i in callout_ids)}")


def read_token(token: str) -> Link:
    """The link's content; LinkExpired or LinkInvalid otherwise."""
    try:
        payload = _serializer(LINK_SALT).loads(token, max_age=_max_age())
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None
    person, _, ids = str(payload).partition(":")
    try:
        return Link(person, tuple(int(i) for i in ids.split(".") if i))
    except ValueError:
        raise LinkInvalid() from None


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute URL on PUBLIC_BASE_URL, in a request or not (jobs run in the worker, outside one)."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["PUBLIC_BASE_URL"] + adapter.build(endpoint, values)


def takeover_url(person_id: str, callout_ids: list[int] | tuple[int, ...]) -> str:
    """The absolute link sent by SMS (on PUBLIC_BASE_URL)."""
    return absolute_url("oncall.takeover_page", token=make_token(person_id, callout_ids))


def media_url(voicemail_id: int) -> str:
    """An absolute, signed URL that streams one voicemail (for <Play> in a page call)."""
    return absolute_url("oncall.voicemail_media", token=_serializer(MEDIA_SALT).dumps(voicemail_id))


def read_media_token(token: str) -> int:
    try:
        return int(_serializer(MEDIA_SALT).loads(token, max_age=MEDIA_MAX_AGE))
    except SignatureExpired:
        raise LinkExpired() from None
    except (BadSignature, ValueError, TypeError):
        raise LinkInvalid() from None
