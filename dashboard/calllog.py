"""The call log: every inbound call, filtered and paged by keyset (newest first), for the dashboard,
its CSV export and `GET /api/calls`. The order (started_at, id) follows the index ix_call_started_id,
so page 20 000 costs what page 1 costs."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, render_template, request, send_file, stream_with_context
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from dashboard import sheet
from dashboard.web import bp, local, org_or_none, timezone
from models import Call, CallOutcome, Client, RefusalReason, Ticket, Voicemail, session
from org.phones import parse_phone
from voice.recordings import open_media
from words.ui import label

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class FilterError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class CallFilter:
    """What the agent asked for; `params` is what goes back into links (pagination, CSV)."""

    start: datetime | None = None
    end: datetime | None = None
    outcome: CallOutcome | None = None
    reason: str | None = None
    client_id: int | None = None
    ticket_id: int | None = None
    ticket_number: str | None = None
    caller: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def where(self, query: Select[Any]) -> Select[Any]:
        if self.start is not None:
            query = query.where(Call.started_at >= self.start)
        if self.end is not None:
            query = query.where(Call.started_at < self.end)
        if self.outcome is not None:
            query = query.where(Call.outcome == self.outcome)
        if self.reason is not None:
            query = query.where(Call.reason == self.reason)
        if self.client_id is not None:
            query = query.where(Call.client_id == self.client_id)
        if self.ticket_id is not None:
            query = query.where(Call.ticket_id == self.ticket_id)
        elif self.ticket_number is not None:  # an unknown number: the calls that keyed it
            query = query.where(Call.entered_ticket == self.ticket_number)
        if self.caller is not None:
            query = query.where(Call.from_number == self.caller)
        return query


def _day(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FilterError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not 2000 <= day.year <= 2999:  # 0001-01-01 or 9999-12-31 would overflow once made an instant
        raise FilterError(name, f"{value!r} is out of range (2000-01-01 to 2999-12-31)")
    return day


def parse_filter(args: Mapping[str, str], tz: ZoneInfo, region: str = "FR") -> CallFilter:
    """Filters from query parameters: from, to (local dates, inclusive), outcome, reason, client
    (account), ticket (number), caller (phone number as people write it)."""
    f = CallFilter()
    keep = {
        k: v.strip()
        for k in ("from", "to", "outcome", "reason", "client", "ticket", "caller")
        if (v := args.get(k)) and v.strip()
    }
    f.params = keep
    if "from" in keep:
        f.start = datetime.combine(_day(keep["from"], "from"), time(0), tzinfo=tz)
    if "to" in keep:
        f.end = datetime.combine(_day(keep["to"], "to") + timedelta(days=1), time(0), tzinfo=tz)
        if f.start is not None and f.end <= f.start:
            raise FilterError("to", "the end date is before the start date")
    if "outcome" in keep:
        try:
            f.outcome = CallOutcome(keep["outcome"])
        except ValueError:
            raise FilterError(
                "outcome",
                f"unknown outcome {keep['outcome']!r} (one of: {', '.join(o.value for o in CallOutcome)})",
            ) from None
    if "reason" in keep:
        if keep["reason"] not in {r.value for r in RefusalReason}:
            raise FilterError("reason", f"unknown reason {keep['reason']!r}")
        f.reason = keep["reason"]
    if "client" in keep:
        f.client_id = session.scalar(select(Client.id).where(Client.account == keep["client"]))
        if f.client_id is None:
            raise FilterError("client", f"unknown client account {keep['client']!r}")
    if "ticket" in keep:
        number = keep["ticket"]
        if not number.isdigit():
            raise FilterError("ticket", f"{number!r} is not a ticket number (digits)")
        f.ticket_number = number
        f.ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
    if "caller" in keep:
        try:
            f.caller = parse_phone(keep["caller"], region)
        except ValueError:
            raise FilterError("caller", f"{keep['caller']!r} is not a phone number") from None
    return f


# --- keyset pages -------------------------------------------------------------------------------


MAX_ID = 2**31 - 1


def make_cursor(at: datetime, ident: int) -> str:
    """An opaque keyset cursor: the (instant, id) of the last row of a page."""
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{ident}".encode()).decode().rstrip("=")


def encode_cursor(call: Call) -> str:
    return make_cursor(call.started_at, call.id)


def decode_cursor(cursor: str, name: str = "after") -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        instant = datetime.fromisoformat(at)
        number = int(ident)
        if instant.tzinfo is None or not 0 <= number <= MAX_ID:  # ids are the database's integers
            raise ValueError
        return instant, number
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise FilterError(
            name, "not a cursor from a previous page (use the `next` value as it was given)"
        ) from None


def parse_limit(value: str | None, default: int = DEFAULT_LIMIT) -> int:
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:  # not "²"
        raise FilterError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(value)


def _after(query: Select[Any], cursor: tuple[datetime, int] | None) -> Select[Any]:
    if cursor is None:
        return query
    at, ident = cursor
    # `started_at <= at` alone is a range on the index; the OR only sorts out ties.
    return query.where(
        Call.started_at <= at, or_(Call.started_at < at, and_(Call.started_at == at, Call.id < ident))
    )


def page_of_calls(f: CallFilter, limit: int, after: str | None = None) -> tuple[list[Call], str | None]:
    """One page of calls, newest first, and the cursor of the next page (None on the last one)."""
    query = f.where(select(Call))
    query = _after(query, decode_cursor(after) if after else None)
    query = query.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit + 1)
    query = query.options(joinedload(Call.ticket), joinedload(Call.client), selectinload(Call.voicemail))
    rows = list(session.scalars(query).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]) if more and rows else None


def all_calls(f: CallFilter, batch: int = 1000) -> Iterator[Call]:
    """Every matching call, newest first, fetched page by page (the CSV export)."""
    cursor: str | None = None
    while True:
        rows, cursor = page_of_calls(f, batch, cursor)
        yield from rows
        session.expunge_all()  # keep memory flat on long exports
        if cursor is None:
            return


# --- dashboard pages ----------------------------------------------------------------------------


def _dashboard_filter() -> tuple[CallFilter, str | None]:
    org = org_or_none()
    try:
        return parse_filter(request.args, timezone(), org.region if org else "FR"), None
    except FilterError as exc:
        return CallFilter(params={}), exc.field


@bp.get("/calls")
def calls() -> Any:
    """Every call with time, caller, ticket, outcome and reason, duration; filters; keyset pages."""
    f, bad_field = _dashboard_filter()
    rows: list[Call] = []
    cursor = None
    if bad_field is None:
        try:
            rows, cursor = page_of_calls(f, parse_limit(request.args.get("limit")), request.args.get("after"))
        except FilterError as exc:
            bad_field = exc.field
    status = 400 if bad_field else 200
    clients = list(session.execute(select(Client.account, Client.name).order_by(Client.name)))
    return render_template(
        "desk/calls.html",
        calls=rows,
        next_cursor=cursor,
        f=f,
        args=request.args,
        bad_field=bad_field,
        clients=clients,
        outcomes=list(CallOutcome),
        reasons=list(RefusalReason),
        field_names=FIELD_NAMES,
    ), status


FIELD_NAMES = {
    "from": "Du",
    "to": "Au",
    "outcome": "Issue",
    "reason": "Motif",
    "client": "Client",
    "ticket": "Requête",
    "caller": "Appelant",
    "limit": "Nombre",
    "after": "Page",
}


CSV_COLUMNS = (
    "date",
    "heure",
    "appelant",
    "requête",
    "client",
    "issue",
    "motif",
    "durée (s)",
    "rappel",
    "message (s)",
)


@bp.get("/calls.csv")
def calls_csv() -> Any:
    """The filtered call log as CSV (semicolons, UTF-8 with BOM: opens as is in a French spreadsheet)."""

    f, bad_field = _dashboard_filter()
    if bad_field:
        abort(400, description=f"{bad_field}: invalid filter")

    org = org_or_none()
    region = org.region if org is not None else "FR"

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sheet.DELIMITER)
        writer.writerow(CSV_COLUMNS)
        yield sheet.BOM + out.getvalue()
        for call in all_calls(f):
            out.seek(0)
            out.truncate()
            vm = call.voicemail
            writer.writerow(
                [
                    local(call.started_at, "%Y-%m-%d"),
                    local(call.started_at, "%H:%M:%S"),
                    sheet.dialled(call.from_number, region),
                    sheet.cell(call.ticket.number if call.ticket else (call.entered_ticket or "")),
                    sheet.cell(call.client.account if call.client else ""),
                    label("outcome", call.outcome.value),
                    label("reason", call.reason) if call.reason else "",
                    call.duration if call.duration is not None else "",
                    sheet.dialled(call.callback_number or (vm.callback_number if vm else None), region),
                    vm.duration if vm and vm.duration is not None else "",
                ]
            )
            yield out.getvalue()

    dates = "_".join(f.params[k] for k in ("from", "to") if k in f.params)
    name = f"appels-{dates}" if dates else "appels"
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@bp.get("/voicemails/<int:voicemail_id>/audio")
def voicemail_audio(voicemail_id: int) -> Any:
    """The recording, streamed through the application to logged-in users only (never Twilio's URL)."""

    vm = session.get(Voicemail, voicemail_id)
    media = open_media(vm) if vm is not None else None
    if media is None:
        abort(404, description="enregistrement indisponible / recording unavailable")
    chunks, mimetype = media
    # Buffered (a voicemail is a few hundred kB) so that the player can seek: Range requests work.
    body = io.BytesIO(b"".join(chunks))
    response = send_file(
        body, mimetype=mimetype, conditional=True, download_name=f"message-{voicemail_id}", max_age=0
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
