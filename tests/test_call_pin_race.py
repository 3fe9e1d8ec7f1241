"""Forty wrong PINs keyed at the same instant, over HTTP against the running application and its real
database: exactly PIN_MAX_FAILURES of them are compared, the others hear that the number is locked."""

from __future__ import annotations

import threading

from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from devtools.simulator import Phone
from models import Call, Client, PinLock, session
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.phone import ISABELLE

STRANGER = "+33699887766"
CALLS = 40


def _at_the_same_instant(app, caller: str, count: int, pin: str) -> list:
    """`count` calls from `caller` over HTTP, each at the PIN prompt, all keying `pin` at once (the
    client's PIN hashed with the production work factor: slow comparisons that overlap)."""
    dupont = session.scalar(select(Client).where(Client.account == "C1001"))
    dupont.pin_hash = generate_password_hash("4821")
    session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        http = Phone(f"http://127.0.0.1:{server.server_port}", AUTH_TOKEN, PUBLIC_BASE_URL, "+33272646172")
        calls = [http.call(from_=caller).press("104233#").expect("code PIN") for _ in range(count)]
        start = threading.Barrier(count)
        errors: list[BaseException] = []

        def key_the_pin(call) -> None:
            start.wait()
            try:
                call.press(f"{pin}#")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=key_the_pin, args=(call,)) for call in calls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        server.shutdown()
    assert not errors, errors[0]
    return calls


def test_forty_wrong_pins_at_once_are_counted_exactly(app, phone, org):
    calls = _at_the_same_instant(app, STRANGER, CALLS, "0000")
    heard = [" ".join(call.heard) for call in calls]
    assert all("suspendu" in h or "Ce code PIN est incorrect" in h for h in heard), heard
    session.expire_all()
    rows = session.scalars(select(Call).where(Call.from_number == STRANGER)).all()
    compared = sum(int((row.state or {}).get("pins_compared", 0)) for row in rows)
    assert len(rows) == CALLS and compared == app.config["PIN_MAX_FAILURES"]  # was 27 of 40
    assert sum("suspendu" in h for h in heard) >= CALLS - compared
    session.expire_all()
    own = session.get(PinLock, f"caller:C1001:{STRANGER}")
    account = session.get(PinLock, "client:C1001")
    assert own.failures == app.config["PIN_MAX_FAILURES"] and own.locked_until is not None
    assert account.failures == app.config["PIN_MAX_FAILURES"] and account.locked_until is None


def test_a_switchboards_staff_keying_the_right_pin_at_once_all_get_through(app, phone, org):
    """An outage: twelve people of one client call from its switchboard's single number and key the
    right PIN at the same instant. Never more than PIN_MAX_FAILURES comparisons run at once, but a right
    PIN waits for a slot instead of hearing that the number is locked."""
    calls = _at_the_same_instant(app, ISABELLE, 12, "4821")
    heard = [" ".join(call.heard) for call in calls]
    assert not [h for h in heard if "suspendu" in h], heard
    assert all("vous rappellerons" in h for h in heard), heard
    session.expire_all()
    assert [
        lock.key for lock in session.scalars(select(PinLock)) if lock.failures
    ] == []  # no wrong PIN counted
