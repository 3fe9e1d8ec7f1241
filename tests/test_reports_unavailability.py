"""The monthly unavailability per client, as the desk sends it to a client (003, 004): from each
ticket's opening to its resolution, client standby left out, simultaneous tickets counted once, cut at
the month's edges; on the reports page and in CSV like the other reports."""

from __future__ import annotations

from models import TicketStatus
from oncall.ticket_changes import TicketChange, change_ticket, open_ticket

from . import factories


def _status(number: str, status: TicketStatus, clock, at: str) -> None:
    clock.set(at)
    change_ticket(factories.ticket(number), TicketChange(status=status), actor="agnes")


def _ticket(clock, at: str, priority: str = "high") -> str:
    clock.set(at)
    return open_ticket(
        client="C1001", priority=priority, subject="Lien coupé", service="SDSL-4471", actor="portal"
    ).number


def _csv(client, month: str) -> list[list[str]]:
    answer = client.get(f"/reports/unavailability.csv?month={month}")
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="indisponibilite-{month}.csv"'
    return [line.split(";") for line in answer.get_data(as_text=True).lstrip("\ufeff").splitlines()]


def test_a_clients_unavailability_leaves_out_standby_and_counts_overlaps_once(client, org, clock):
    for number in ("104233", "104240", "104251"):  # the file's tickets: resolved at once, out of the way
        _status(number, TicketStatus.RESOLVED, clock, "2026-11-24 23:10")
    outage = _ticket(clock, "2026-11-25 01:00")
    _status(outage, TicketStatus.CLIENT_STANDBY, clock, "2026-11-25 02:00")  # waiting for site access
    _status(outage, TicketStatus.IN_PROGRESS, clock, "2026-11-25 03:00")
    second = _ticket(clock, "2026-11-25 03:30", priority="medium")  # the same outage, seen twice
    _status(second, TicketStatus.RESOLVED, clock, "2026-11-25 04:00")
    _status(outage, TicketStatus.RESOLVED, clock, "2026-11-25 05:00")
    clock.set("2026-12-02 10:00")
    factories.login(client)  # the morning after: a fresh session
    rows = _csv(client, "2026-11")
    assert rows[0] == [
        "mois",
        "client",
        "compte",
        "requêtes",
        "indisponibilité (h)",
        "% indisponible",
        "prises en charge hors délai",
        "résolutions hors délai",
        "astreintes hors délai",
    ]
    dupont = next(r for r in rows if r[2] == "C1001")
    # 01:00-05:00 less the hour of standby: 3 h of 720 h in November
    assert dupont[3:6] == ["2", "3,0", "0,4"]
    moreau = next(r for r in rows if r[2] == "C1002")
    assert moreau[3:5] == ["0", "0,0"]  # listed, fully available
    assert "Indisponibilité par client" in factories.visible_text(client.get("/reports?month=2026-11"))


def test_a_ticket_still_open_counts_until_now_and_stops_at_the_months_end(client, org, clock):
    for number in ("104233", "104240", "104251"):
        _status(number, TicketStatus.RESOLVED, clock, "2026-11-24 23:10")
    _ticket(clock, "2026-11-30 22:00")
    clock.set("2026-12-01 03:00")
    factories.login(client)
    november = next(r for r in _csv(client, "2026-11") if r[2] == "C1001")
    december = next(r for r in _csv(client, "2026-12") if r[2] == "C1001")
    assert november[4] == "2,0" and december[4] == "3,0"
    assert december[6] == "1"  # its ½ h takeover target was missed


def test_a_bad_month_is_refused(client, org, clock):
    factories.login(client)
    assert client.get("/reports/unavailability.csv?month=2026-13").status_code == 400
