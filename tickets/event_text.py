"""Timeline entries in the agent's language. The rooms that write an event store its French text and
the facts behind it (`data`); in English the text is told again from those facts. An entry whose facts
are not enough (an older row, a kind this module does not know) keeps its stored text."""

from __future__ import annotations

import re
from typing import Any

from models import Callout, Page, TicketEvent, Voicemail, session
from words.ui import label

_MINUTES = re.compile(r"\((\d+) min\)")


def event_text(event: TicketEvent, lang: str, people: dict[str, str], timezone: Any) -> str:
    """What the timeline says of `event` in `lang` (fr: the stored text)."""
    if lang == "fr":
        return event.text
    try:
        return _english(event, people, timezone) or event.text
    except (KeyError, TypeError, ValueError):
        return event.text


def _channel(value: str) -> str:
    return label("channel", value, "en")


def _english(e: TicketEvent, people: dict[str, str], timezone: Any) -> str | None:
    d: dict[str, Any] = e.data or {}
    kind = e.kind

    def name(person_id: str | None) -> str:
        return people.get(person_id or "", person_id or "someone")

    page = session.get(Page, d["page"]) if isinstance(d.get("page"), int) else None
    if kind == "status" and "from" in d:
        text = f"{label('status', d['from'], 'en')} → {label('status', d['to'], 'en')}"
        _, sep, note = e.text.partition(" : ")
        return text + (f": {note}" if sep else "")
    if kind == "call" and "call" in d:
        if d.get("reason"):
            return f"call refused ({label('reason', d['reason'], 'en')}) from {e.actor}"
        return f"on-call call from {e.actor}"
    if kind == "voicemail" and isinstance(d.get("voicemail"), int):
        vm = session.get(Voicemail, d["voicemail"])
        if vm is None:
            return None
        return f"voicemail of {vm.duration or 0} s, call back on {vm.callback_number or 'withheld number'}"
    if kind == "callout" and isinstance(d.get("callout"), int):
        if d.get("cancelled"):
            return "on-call paging stopped"
        callout = session.get(Callout, d["callout"])
        if callout is None:
            return None
        return f"on-call paged, takeover expected by {callout.due_at.astimezone(timezone):%H:%M}"
    if kind == "page":
        if "channel" in d and page is not None:
            verb = "SMS sent to" if d["channel"] == "sms" else "Call to"
            return f"{verb} {page.person.name}"
        if "person" in d and "step" in d:
            return f"{name(d['person'])} declined: next step"
        return None
    if kind == "page_failed" and page is not None:
        status = label("page_status", d.get("status") or page.status, "en")
        return f"{_channel(page.channel.value)} to {page.person.name}: {status}"
    if kind == "page_error" and page is not None:
        return f"{_channel(page.channel.value)} to {page.person.name}: error {d.get('error') or ''}".strip()
    if kind == "breach":
        target = _MINUTES.search(e.text)
        return "Takeover deadline missed" + (f" ({target.group(1)} min)" if target else "")
    if kind == "escalation" and "level" in d:
        return f"Escalation level {d['level']}: {name(d.get('person'))}"
    if kind == "takeover" and "via" in d:
        late = " (late)" if d.get("breached") else ""
        minutes = int(d.get("seconds") or 0) // 60
        return f"Taken over by {name(d.get('person'))} by {_channel(d['via'])} in {minutes} min{late}"
    if kind == "caller_sms" and "sent" in d:
        if d["sent"]:
            _, sep, body = e.text.partition("« ")
            return f"SMS to the caller: « {body}" if sep else "SMS sent to the caller"
        if d.get("error"):
            return f"SMS to the caller failed ({d['error']})"
        return "No SMS to the caller: the callback number is not a mobile"
    if kind == "decline" and "person" in d:
        return f"{name(d['person'])} declined the page"
    if kind == "gap":
        return "Nobody in this role: next step at once"
    return None
