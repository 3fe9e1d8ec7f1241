"""Odd requests get a 4xx, never a 500: ids past the database's integers, JSON nested past the
recursion limit, a CR LF in `?next=`."""

from __future__ import annotations

from dashboard.api import create_token
from tests import factories

HUGE = 2**31  # one past PostgreSQL's integer: an overflow there, before


def test_ids_past_the_databases_integers_are_not_found(client, org):
    """Before, on PostgreSQL: 500 (NumericValueOutOfRange) on both."""
    factories.login(client, role="admin")
    assert client.get(f"/voicemails/{HUGE}/audio").status_code == 404
    token = factories.csrf(client, "/rota")
    undo = client.post(f"/rota/changes/{HUGE}/undo", data={"csrf_token": token, "confirm": "1"})
    assert undo.status_code in (404, 405)  # no such change (werkzeug says 405 beside the GET question page)
    assert client.get(f"/voicemails/{HUGE - 1}/audio").status_code == 404  # the largest id: no row


def test_json_nested_past_the_recursion_limit_is_a_400(client, org):
    """Before: RecursionError, a 500."""
    token = create_token("crm")
    body = "[" * 100_000 + "]" * 100_000
    answer = client.post(
        "/api/tickets",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    assert "nested too deeply" in answer.get_json()["error"]


def test_a_cr_lf_in_next_sends_a_logged_in_agent_home(client, org):
    """Before: a 500 (a newline in the Location header)."""
    factories.login(client)
    answer = client.get("/login?next=/now%0d%0aSet-Cookie:%20x=1")
    assert answer.status_code == 302 and answer.headers["Location"] == "/now"
    assert "Set-Cookie" not in answer.headers or "x=1" not in answer.headers["Set-Cookie"]
