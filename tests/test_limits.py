"""Oversized requests are refused before they are read whole."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Call, session


def test_a_two_megabyte_post_is_refused_with_413_and_leaves_no_row(client, org):
    resp = client.post("/voice/incoming", data={"CallSid": "CA" + "1" * 32, "Body": "x" * (2 * 1024 * 1024)})
    assert resp.status_code == 413
    assert session.scalar(select(func.count()).select_from(Call)) == 0
