"""No PIN at rest in clear: neither the client rows nor the stored organisation file (nor so a dump
of the database) hold a PIN; the IVR still takes the right one."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

import migrations
import models
from models import Organisation, session
from org.load import load, read_file
from org.orgfile import OrgFileError
from tests.conftest import ORG_FILE
from tests.phone import ISABELLE
from wsgi import create_app, upgrade_database

PINS = ("739164", "582039")


def _org_with_pins() -> dict[str, Any]:
    doc = read_file(ORG_FILE)
    for client, pin in zip(doc["clients"], PINS, strict=True):
        client["pin"] = pin
    return doc


def _database_text(engine: Any) -> str:
    """Every value of every table, as a dump would carry it."""
    out = []
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():  # whatever the schema's version holds
            for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                out.append(" ".join(str(v) for v in row))
    return "\n".join(out)


def test_the_stored_organisation_and_the_database_hold_no_pin(app, phone):
    load(_org_with_pins())
    everything = _database_text(app.extensions["engine"])
    for pin in PINS:
        assert pin not in everything
    stored = session.scalar(select(Organisation)).config
    assert all("pin" not in c and c["pin_hash"].startswith("hmac-sha256$") for c in stored["clients"])
    assert load(_org_with_pins())["organisation"] == 0  # loading the same file again changes nothing
    call = phone.call(from_=ISABELLE)
    call.expect("numéro de requête").press("104233#")
    call.expect("code").press(PINS[0] + "#")
    call.expect("rappel")


def test_the_migration_takes_pins_out_of_an_organisation_stored_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"INSTANCE": tmp_path, "DATABASE_URL": url, "TESTING": True})
    engine = app.extensions["engine"]
    with app.app_context():
        upgrade_database()
        load(_org_with_pins())
        models.session.remove()
        migrations.downgrade(engine, "0006_page_tests")  # the schema of an earlier version
        with engine.begin() as conn:  # and the document whole, as that version stored it
            conn.execute(
                models.Organisation.__table__.update().values(config=copy.deepcopy(_org_with_pins()))
            )
        assert PINS[0] in _database_text(engine)
        upgrade_database()
        assert not any(pin in _database_text(engine) for pin in PINS)
        models.session.remove()
    engine.dispose()


def test_a_pin_too_easy_to_guess_is_refused_on_load_with_a_clear_message(app):
    for weak, why in [
        ("0000", "the same digit repeated"),
        ("1234", "a run of digits"),
        ("987654", "a run of digits"),
        ("121212", "a repeated pattern"),
        ("2580", "among the first guesses"),
    ]:
        doc = _org_with_pins()
        doc["clients"][0]["pin"] = weak
        with pytest.raises(OrgFileError) as refused:
            load(doc)
        assert f"clients[0].pin: too easy to guess ({why}): choose another one, 6 digits recommended" in str(
            refused.value
        )
        assert weak not in str(refused.value)  # the message never repeats the PIN
    load(_org_with_pins())  # 739164 and 582039 are fine
