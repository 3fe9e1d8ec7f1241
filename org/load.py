"""`astreinte load FILE`: the organisation file into the database, all or nothing, idempotent.

Also `current_org()`, the loaded organisation as an `Org`: parsed once per process and version (its
checksum), and looked up once per request or job.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, g, has_app_context
from sqlalchemy import select

import clock
from models import Client, Contact, Organisation, Person, Service, Ticket, TicketEvent, session
from org.orgfile import Org, OrgFileError, parse
from org.phones import parse_phone
from org.pins import hash_pin, is_current, pin_matches, weakness


class NoOrganisation(RuntimeError):
    """No organisation file has been loaded yet."""


def read_file(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OrgFileError([f"(file): cannot read {path}: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise OrgFileError([f"(file): not valid YAML: {exc}"]) from None


def _checksum(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _plain(doc: Any) -> Any:
    """YAML dates become strings, so the document can be stored as JSON."""
    return json.loads(json.dumps(doc, default=str))


def without_pins(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as it is kept: each client's `pin` replaced by its keyed hash (`pin_hash`), so
    neither the stored organisation nor a dump of the database holds a PIN in clear."""
    kept = dict(doc)
    clients = []
    for c in doc.get("clients") or []:
        c = dict(c)
        if (pin := c.pop("pin", None)) is not None:
            c["pin_hash"] = hash_pin(str(pin))
        clients.append(c)
    if "clients" in doc:
        kept["clients"] = clients
    return kept


def load(doc: Any) -> dict[str, int]:
    """Check the whole document, then write it in one transaction. Returns what changed, by kind."""
    doc = _plain(doc)
    org = parse(doc)
    data = _check_data(doc, org)
    doc = without_pins(doc)
    changed = {"organisation": 0, "people": 0, "clients": 0, "services": 0, "contacts": 0, "tickets": 0}
    try:
        _write_org(doc, org, changed)
        _write_people(org, changed)
        _write_clients(data["clients"], changed)
        _write_tickets(data["tickets"], changed)
        session.commit()
    except Exception:
        session.rollback()
        raise
    current_app.extensions.pop("org", None)
    if has_app_context():
        g.pop("org", None)
    return changed


def is_empty() -> bool:
    return session.scalar(select(Organisation.id).limit(1)) is None


_CHECKSUM = select(Organisation.checksum).limit(1)  # built once: every webhook asks
CHECKSUM_COLUMN = _CHECKSUM.scalar_subquery()  # read along with another row: no statement of its own


def current_org() -> Org:
    """The loaded organisation. One SELECT of its checksum per request or job (a load in another
    process is seen by the next request), or none when a query read it along (`checksum_read`); the
    document is read and parsed only when it changed."""
    if (memo := g.get("org")) is not None:
        return memo  # type: ignore[no-any-return]
    checksum = g.pop("org_checksum", None) or session.scalar(_CHECKSUM)
    if checksum is None:
        raise NoOrganisation("no organisation file loaded: run `astreinte load examples/org.yaml`")
    cached = current_app.extensions.get("org")
    if cached is None or cached[0] != checksum:
        row = session.scalar(select(Organisation).limit(1))
        assert row is not None
        cached = (row.checksum, parse(row.config))
        current_app.extensions["org"] = cached
    g.org = cached[1]
    return cached[1]


def checksum_read(checksum: str | None) -> None:
    """The checksum as a query of this request read it (CHECKSUM_COLUMN): `current_org` uses it."""
    if checksum is not None and g.get("org") is None:
        g.org_checksum = checksum


# --- the parts that go to tables ----------------------------------------------------------------


def _check_data(doc: dict[str, Any], org: Org) -> dict[str, list[dict[str, Any]]]:
    problems: list[str] = []
    clients: list[dict[str, Any]] = []
    accounts: dict[str, set[str]] = {}
    refs: set[str] = set()
    for i, c in enumerate(doc.get("clients") or []):
        where = f"clients[{i}]"
        if not isinstance(c, dict) or not c.get("account"):
            problems.append(f"{where}: expected a mapping with an account")
            continue
        account = str(c["account"])
        if account in accounts:
            problems.append(f"{where}.account: {account!r} appears twice")
        pin, pin_hash = c.get("pin"), c.get("pin_hash")
        if pin_hash is None and not (
            isinstance(pin, str | int) and str(pin).isdigit() and 4 <= len(str(pin)) <= 8
        ):
            problems.append(f'{where}.pin: a PIN is 4 to 8 digits, written in quotes ("4821")')
        elif pin_hash is None and (weak := weakness(str(pin))):
            problems.append(
                f"{where}.pin: too easy to guess ({weak}): choose another one, 6 digits recommended"
            )
        contacts = []
        for j, ct in enumerate(c.get("contacts") or []):
            phone = None
            if ct.get("phone"):
                try:
                    phone = parse_phone(ct["phone"], org.region)
                except ValueError as exc:
                    problems.append(f"{where}.contacts[{j}].phone: {exc}")
            contacts.append({"name": str(ct.get("name", "")), "phone": phone, "email": ct.get("email")})
        services: list[dict[str, Any]] = []
        for j, s in enumerate(c.get("services") or []):
            ref = str(s.get("ref", ""))
            if not ref:
                problems.append(f"{where}.services[{j}].ref: missing")
            elif ref in refs:
                problems.append(f"{where}.services[{j}].ref: {ref!r} appears twice")
            refs.add(ref)
            services.append(
                {"ref": ref, "kind": str(s.get("kind", "")), "astreinte": bool(s.get("astreinte"))}
            )
        accounts[account] = {str(s["ref"]) for s in services}
        clients.append(
            {
                "account": account,
                "name": str(c.get("name", account)),
                "site": c.get("site"),
                "pin": None if pin is None else str(pin),
                "pin_hash": pin_hash,
                "astreinte": bool(c.get("astreinte")),
                "contacts": contacts,
                "services": services,
            }
        )
    tickets: list[dict[str, Any]] = []
    numbers: set[str] = set()
    for i, t in enumerate(doc.get("tickets") or []):
        where = f"tickets[{i}]"
        number = str(t.get("number", ""))
        if not number.isdigit():
            problems.append(f"{where}.number: {number!r} is not a ticket number (digits)")
        elif number in numbers:
            problems.append(f"{where}.number: {number!r} appears twice")
        numbers.add(number)
        account = str(t.get("client", ""))
        if account not in accounts:
            problems.append(f"{where}.client: unknown client {account!r}")
        service = t.get("service")
        if service is not None and service not in accounts.get(account, set()):
            problems.append(f"{where}.service: {service!r} is not a service of client {account!r}")
        if t.get("priority") not in org.priorities:
            problems.append(
                f"{where}.priority: unknown priority {t.get('priority')!r} ({', '.join(org.priorities)})"
            )
        tickets.append(
            {
                "number": number,
                "client": account,
                "service": service,
                "priority": t.get("priority"),
                "subject": str(t.get("subject", "")),
            }
        )
    if problems:
        raise OrgFileError(problems)
    return {"clients": clients, "tickets": tickets}


def _set(row: Any, changed: dict[str, int], counter: str, **values: Any) -> None:
    dirty = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            dirty = True
    if dirty:
        changed[counter] += 1


def _write_org(doc: dict[str, Any], org: Org, changed: dict[str, int]) -> None:
    row = session.scalar(select(Organisation).limit(1))
    checksum = _checksum(doc)
    if row is None:
        row = Organisation()
        session.add(row)
    if row.checksum != checksum:
        row.loaded_at = clock.now()
    _set(
        row,
        changed,
        "organisation",
        timezone=org.timezone.key,
        support_number=org.support_number,
        config=doc,
        checksum=checksum,
    )


def _write_people(org: Org, changed: dict[str, int]) -> None:
    existing = {p.id: p for p in session.scalars(select(Person))}
    for entry in org.people.values():
        person = existing.pop(entry.id, None)
        if person is None:
            person = Person(id=entry.id)
            session.add(person)
        _set(
            person,
            changed,
            "people",
            name=entry.name,
            phone=entry.phone,
            email=entry.email,
            language=entry.language,
            active=True,
        )
    for gone in existing.values():  # kept for history (their pages, their takeovers), never paged
        _set(gone, changed, "people", active=False)


def _write_clients(clients: list[dict[str, Any]], changed: dict[str, int]) -> None:
    for c in clients:
        client = session.scalar(select(Client).where(Client.account == c["account"]))
        if client is None:
            client = Client(account=c["account"], pin_hash="")
            session.add(client)
        pin_hash = c["pin_hash"] or client.pin_hash
        if c["pin"] is not None and not (
            is_current(client.pin_hash) and pin_matches(c["pin"], client.pin_hash)
        ):
            pin_hash = hash_pin(c["pin"])  # only when the PIN changed, or its hash is of an older kind
        _set(
            client,
            changed,
            "clients",
            name=c["name"],
            site=c["site"],
            astreinte=c["astreinte"],
            pin_hash=pin_hash,
        )
        session.flush()
        have = {(ct.name, ct.phone, ct.email): ct for ct in client.contacts}
        want = {(ct["name"], ct["phone"], ct["email"]) for ct in c["contacts"]}
        for key, ct in have.items():
            if key not in want:
                client.contacts.remove(ct)
                changed["contacts"] += 1
        for name, phone, email in want - have.keys():
            client.contacts.append(Contact(name=name, phone=phone, email=email))
            changed["contacts"] += 1
        for s in c["services"]:
            service = session.scalar(select(Service).where(Service.ref == s["ref"]))
            if service is None:
                service = Service(ref=s["ref"], client=client)
                session.add(service)
            _set(service, changed, "services", client_id=client.id, kind=s["kind"], astreinte=s["astreinte"])
    session.flush()


def _write_tickets(tickets: list[dict[str, Any]], changed: dict[str, int]) -> None:
    for t in tickets:
        client = session.scalar(select(Client).where(Client.account == t["client"]))
        assert client is not None  # checked by _check_data
        service = session.scalar(select(Service).where(Service.ref == t["service"])) if t["service"] else None
        ticket = session.scalar(select(Ticket).where(Ticket.number == t["number"]))
        if ticket is None:
            ticket = Ticket(number=t["number"], opened_at=clock.now())
            ticket.events.append(TicketEvent(kind="opened", actor="organisation file", text=t["subject"]))
            session.add(ticket)
        _set(
            ticket,
            changed,
            "tickets",
            client_id=client.id,
            service_id=service.id if service else None,
            priority=t["priority"],
            subject=t["subject"],
        )
