"""A ticket's timeline: every event that touched it, in order, stored as a kind and the facts behind it
(`data`), and told in the reader's language when it is read (`tell`).

Free text that people wrote (a note, the subject of an opened ticket) is kept as it was written. An event
whose facts are not enough to tell it (a kind this module does not know) shows its stored text.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import clock
from models import Ticket, TicketEvent, session
from words.carriers import carrier_error
from words.catalogue import text as say
from words.ui import label


def add_event(
    ticket: Ticket, kind: str, text: str = "", actor: str | None = None, data: dict[str, Any] | None = None
) -> TicketEvent:
    """Record one event (kinds: opened, call, voicemail, callout, page, takeover, escalation, status, note…).

    Give every fact `tell` needs in `data`; `text` is for what people wrote (notes, subjects)."""
    event = TicketEvent(ticket_id=ticket.id, at=clock.now(), kind=kind, text=text, actor=actor, data=data)
    session.add(event)
    return event


def tell(event: TicketEvent, lang: str, timezone: tzinfo) -> str:
    """What the timeline says of `event` in `lang`."""
    try:
        return _told(event.kind, event.data or {}, lang, timezone) or event.text
    except (KeyError, TypeError, ValueError):
        return event.text


def _told(kind: str, d: dict[str, Any], lang: str, tz: tzinfo) -> str | None:
    def s(key: str, **values: Any) -> str:
        return say(key, lang, **values)

    def channel() -> str:
        return label("channel", d["channel"], lang)

    if kind == "status" and "from" in d:
        old, new = label("status", d["from"], lang), label("status", d["to"], lang)
        return (
            s("event.status.note", old=old, new=new, note=d["note"])
            if d.get("note")
            else s("event.status", old=old, new=new)
        )
    if kind == "call" and "number" in d:
        if d.get("reason"):
            return s("event.call.refused", reason=label("reason", d["reason"], lang), number=d["number"])
        return s("event.call", number=d["number"])
    if kind == "voicemail" and "seconds" in d:
        return s("event.voicemail", seconds=d["seconds"], callback=d.get("callback") or s("event.withheld"))
    if kind == "callout" and d.get("cancelled") and "reason" in d:
        reason = d["reason"]
        if d.get("status"):
            reason = s("event.callout.ticket", status=label("status", d["status"], lang))
        return s("event.callout.stopped", reason=reason)
    if kind == "callout" and d.get("origin") in ("page_on_open", "major_incident") and "due" in d:
        time = f"{datetime.fromisoformat(d['due']).astimezone(tz):%H:%M}"
        return s(f"event.callout.{d['origin']}", time=time)
    if kind == "callout" and d.get("origin") == "breach":
        return s("event.callout.breach")
    if kind == "callout" and "due" in d:
        return s("event.callout", time=f"{datetime.fromisoformat(d['due']).astimezone(tz):%H:%M}")
    if kind == "decline" and "name" in d:
        return s("event.decline", name=d["name"])
    if kind == "breach" and d.get("clock") == "resolution" and "target_hours" in d:
        return s("event.breach.resolution", hours=int(d["target_hours"]))
    if kind == "breach" and d.get("clock") == "ticket_takeover":
        return s("event.breach.ticket_takeover", minutes=d["minutes"])
    if kind == "breach" and "minutes" in d:
        return s("event.breach", minutes=d["minutes"])
    if kind == "gap" and "position" in d:
        return s("event.gap", role=label("notify", d["position"], lang))
    if kind == "escalation" and d.get("clock") == "resolution" and "name" in d:
        return s("event.escalation.resolution", level=d["level"], name=d["name"])
    if kind == "escalation" and d.get("clock") in ("ticket_takeover", "major_incident") and "name" in d:
        return s(f"event.escalation.{d['clock']}", level=d["level"], name=d["name"])
    if kind == "escalation" and d.get("clock") == "inactivity" and "name" in d:
        return s("event.escalation.inactivity", level=d["level"], name=d["name"], hours=int(d["hours"]))
    if kind == "priority" and "to" in d:
        return s(
            "event.priority", old=label("priority", d["from"], lang), new=label("priority", d["to"], lang)
        )
    if kind == "major_incident" and "on" in d:
        return s("event.major_incident.on" if d["on"] else "event.major_incident.off")
    if kind == "client_notice" and "status" in d:
        return s("event.client_notice", status=label("status", d["status"], lang), how=_notice(d, lang))
    if kind == "escalation_request":
        return s(
            "event.escalation_request.major" if d.get("major_incident") else "event.escalation_request.client"
        )
    if kind == "contest":
        return s("event.contest")
    if kind == "escalation" and "name" in d:
        role = label("notify", d["position"], lang)
        return s("event.escalation", level=d["level"], name=d["name"], role=role)
    if kind == "page" and d.get("repeat") and "people" in d:
        return s("event.page.repeat", names=", ".join(d["people"]))
    if kind == "page" and "name" in d:
        if d.get("declined"):
            return s("event.page.declined", name=d["name"])
        if d.get("joined"):
            return s("event.page.joined", name=d["name"])
        told = s(f"event.page.{d['channel']}", name=d["name"])
        if d.get("bundled"):
            told += s("event.page.bundled", count=d["bundled"])
        return told
    if kind == "page_error" and "name" in d:
        key = "event.page_error.retry" if d.get("retry") else "event.page_error"
        error = f" ({carrier_error(d['error'], lang)})" if d.get("error") else ""
        return s(key, channel=channel(), name=d["name"], error=error)
    if kind == "page_failed" and "name" in d:
        told = s(
            "event.page_failed",
            channel=channel(),
            name=d["name"],
            status=label("page_status", d["status"], lang),
        )
        return told + (s("event.error_code", error=carrier_error(d["error"], lang)) if d.get("error") else "")
    if kind == "takeover" and "name" in d:
        told = s(
            "event.takeover", name=d["name"], via=label("via", d["via"], lang), minutes=d["seconds"] // 60
        )
        return told + (s("event.late") if d.get("breached") else "")
    if kind in ("live_request", "live_unanswered") and "names" in d:
        return s(f"event.{kind}", names=", ".join(d["names"]))
    if kind == "client_call" and "name" in d:
        if d.get("ended"):
            ended = datetime.fromisoformat(d["ended"]).astimezone(tz)
            return s("event.client_call.ended", name=d["name"], time=f"{ended:%H:%M}")
        return s("event.client_call", name=d["name"])
    if kind == "live_hung_up":
        return s("event.live_hung_up")
    if kind == "caller_sms" and "sent" in d:
        if d["sent"]:
            return s("event.caller_sms", body=d["body"])
        if d.get("breach"):
            return s("event.caller_sms.breach_failed", code=d.get("error") or s("event.network"))
        if d.get("not_mobile"):
            return s("event.caller_sms.not_mobile")
        return s("event.caller_sms.failed", code=d.get("error") or s("event.network"))
    return None


def _notice(d: dict[str, Any], lang: str) -> str:
    """How the client was told: each SMS, each e-mail, or why not."""
    parts = []
    for sms in d.get("sms") or []:
        if sms.get("sid"):
            parts.append(say("event.client_notice.sms", lang, number=sms["to"]))
        else:
            parts.append(
                say("event.client_notice.sms_failed", lang, number=sms["to"], code=sms.get("error") or "")
            )
    email = d.get("email")
    if isinstance(email, list):
        parts += [say("event.client_notice.email", lang, address=a) for a in email]
    elif email == "not_configured":
        parts.append(say("event.client_notice.no_email", lang))
    return ", ".join(parts) or say("event.client_notice.nobody", lang)
