"""Client PINs are kept as a keyed hash (HMAC-SHA256, the key on the server): fast to check, nothing to
guess against without the key; a PIN stored under the older scrypt hash is moved to the keyed hash the
next time the client keys it right."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from models import Client, session
from org.load import load, read_file
from org.pins import pin_matches
from tests.conftest import ORG_FILE
from tests.phone import ISABELLE, up_to_the_beep


def _client() -> Client:
    client = session.scalar(select(Client).where(Client.account == "C1001"))
    assert client is not None
    session.refresh(client)
    return client


def test_the_organisation_file_stores_each_pin_as_a_keyed_hash(org):
    pin_hash = _client().pin_hash
    assert pin_hash.startswith("hmac-sha256$") and "4821" not in pin_hash.split("$")
    assert pin_matches("4821", pin_hash) and not pin_matches("4822", pin_hash)


def test_the_key_is_the_servers_a_database_copy_alone_checks_nothing(app, org):
    pin_hash = _client().pin_hash
    app.extensions.pop("pin_key", None)
    app.config["SECRET_KEY"] = "another server"
    try:
        assert not pin_matches("4821", pin_hash)
    finally:
        app.extensions.pop("pin_key", None)


def test_an_older_scrypt_hash_is_moved_to_the_keyed_hash_on_the_next_right_entry(phone):
    client = _client()
    client.pin_hash = generate_password_hash("4821", method="scrypt:1024:8:1")
    session.commit()

    wrong = phone.call(from_=ISABELLE)
    wrong.expect("numéro de requête").press("104233#")
    wrong.expect("code PIN").press("1111#").expect("Ce code PIN est incorrect")
    assert _client().pin_hash.startswith("scrypt:")  # a wrong PIN changes nothing

    up_to_the_beep(phone)  # the right PIN, under the old hash: accepted
    assert _client().pin_hash.startswith("hmac-sha256$")
    up_to_the_beep(phone)  # and accepted under the new one
    assert pin_matches("4821", _client().pin_hash)


def test_reloading_the_organisation_file_moves_older_hashes_to_the_keyed_hash(org):
    client = _client()
    client.pin_hash = generate_password_hash("4821", method="scrypt:1024:8:1")
    session.commit()
    load(read_file(ORG_FILE))
    assert _client().pin_hash.startswith("hmac-sha256$")
