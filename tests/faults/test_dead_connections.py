"""PostgreSQL closes the application's pooled connections under it (a restart, an administrator's
pg_terminate_backend, an idle time-out): the next webhook of a caller is answered as if nothing
happened, without a ping before every request. SQLite files do not disconnect: skipped there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

from models import Call, session
from tests.phone import ISABELLE, call_row
from tests.processes import wait_for


@pytest.fixture
def backends(app: Flask) -> Iterator[list[Any]]:
    """The application's own PostgreSQL connections, as they are opened (their server process ids)."""
    engine = app.extensions["engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL=postgresql+psycopg://…): SQLite files do not disconnect")
    pids: list[Any] = []

    def opened(dbapi_conn: Any, _record: Any) -> None:
        pids.append(dbapi_conn.info.backend_pid)

    engine.dispose()  # the connections opened from now on are the ones the webhooks use
    event.listen(engine, "connect", opened)
    yield pids
    event.remove(engine, "connect", opened)


def terminate(app: Flask, pids: list[int]) -> None:
    """An administrator ends these server processes; returns once PostgreSQL no longer lists them."""
    admin = create_engine(app.extensions["engine"].url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

            def gone() -> bool:
                left = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
                ).scalar()
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                return left == 0

            assert wait_for(gone, 10), "PostgreSQL did not end the connections"
    finally:
        admin.dispose()


def test_a_caller_goes_on_when_the_database_ended_every_connection(app, phone, backends):
    call = phone.call(from_=ISABELLE)
    call.expect("numéro de requête")
    assert backends, "the webhook used no connection of the pool"
    session.remove()
    terminate(app, list(backends))
    call.press("104233#").expect("code PIN")  # answered, not "a technical problem"
    call.press("4821#").expect("nous vous rappellerons")
    assert call_row(call).entered_ticket == "104233"


def test_a_connection_ended_between_its_check_and_its_first_statement_is_replaced_once(app, phone, backends):
    """The check at checkout saw a live socket; the server ended the process right after: the first
    statement fails, the session runs it again on a new connection."""
    call = phone.call(from_=ISABELLE)
    call.expect("numéro de requête")
    session.remove()
    engine = app.extensions["engine"]
    pids = list(backends)

    killed: list[bool] = []

    def kill_after_check(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if not killed:
            killed.append(True)
            terminate(app, pids)

    event.listen(engine, "checkout", kill_after_check)
    try:
        call.press("104233#").expect("code PIN")
    finally:
        event.remove(engine, "checkout", kill_after_check)
    assert killed
    assert session.get(Call, call_row(call).id).entered_ticket == "104233"
    assert len(backends) > len(pids), "no new connection was opened"
