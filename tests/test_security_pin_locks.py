"""PIN locks that a stranger cannot turn against the client, and that somebody hears about."""

from __future__ import annotations

from tests.oncall_helpers import CHLOE
from tests.phone import ISABELLE, sms_to

STRANGER = "+33699887766"


def _with_pin(phone, pin: str, from_: str):  # type: ignore[no-untyped-def]
    call = phone.call(from_=from_)
    call.expect("numéro de requête").press("104233#")
    return call.expect("code PIN").press(f"{pin}#")


def _five_wrong_pins(phone, from_: str) -> None:  # type: ignore[no-untyped-def]
    _with_pin(phone, "0000", from_).press("1111#").press("2222#").hangup()
    _with_pin(phone, "3333", from_).press("4444#").hangup()


def test_wrong_pins_keyed_with_the_clients_own_number_never_lock_the_client_out(phone):
    """Before: five wrong PINs with Isabelle's number as caller ID (easy to forge) locked her out."""
    _five_wrong_pins(phone, ISABELLE)
    client = _with_pin(phone, "4821", ISABELLE)
    client.expect("Coupure totale du lien SDSL").expect_not("suspendu")


def test_guessing_behind_the_clients_own_number_is_told_to_the_supervisor(phone):
    """Never locked, but never silent: 5 wrong PINs in 15 minutes from a client's number text the
    supervisor (a forged caller ID would otherwise guess 3 PINs a call without end)."""
    _with_pin(phone, "0000", ISABELLE).press("1111#").press("2222#").hangup()
    assert sms_to(CHLOE) == []
    _with_pin(phone, "3333", ISABELLE).press("4444#").hangup()
    [told] = sms_to(CHLOE)
    assert "codes PIN faux répétés pour Boulangerie Dupont (C1001) depuis +33611223344" in told


def test_one_withheld_stranger_does_not_lock_every_withheld_caller(phone):
    """Before: every withheld caller shared one counter; a stranger's five guesses locked them all."""
    _five_wrong_pins(phone, "anonymous")
    colleague = _with_pin(phone, "4821", "anonymous")
    colleague.expect("Coupure totale du lien SDSL").expect_not("suspendu")


def test_withheld_guessing_still_locks_the_account_for_strangers(phone, app):
    app.config["PIN_ACCOUNT_MAX_FAILURES"] = 6
    for _ in range(2):
        _with_pin(phone, "0000", "anonymous").press("1111#").press("2222#").hangup()
    _with_pin(phone, "4821", "anonymous").expect("suspendu").expect_not("Coupure")
    _with_pin(phone, "4821", ISABELLE).expect("Coupure totale du lien SDSL")


def test_the_supervisor_is_told_of_a_lock(phone):
    """Before: nobody was told; a lock was seen, if at all, in the morning's call log."""
    assert sms_to(CHLOE) == []
    _five_wrong_pins(phone, STRANGER)
    [told] = sms_to(CHLOE)
    assert "code PIN de Boulangerie Dupont (C1001) verrouillé" in told and "+33699887766" in told
    _with_pin(phone, "5555", STRANGER).hangup()  # refused while locked: told once, not again
    assert len(sms_to(CHLOE)) == 1
