"""The desk changes the rota in the dashboard: a cover or a swap, checked like the organisation file,
written to the rota's timeline, undone; and the night pages whoever the rota says after the change."""

from __future__ import annotations

import re
import sqlite3

import pytest
import yaml

from oncall.rota import who_is_on_call
from org.load import current_org, load
from tests import factories
from tests.conftest import ORG_FILE, paris
from tests.oncall_helpers import ALICE, CHLOE, leave_voicemail
from tests.phone import sms_to

text = factories.visible_text


@pytest.fixture
def admin(client, clock, org):
    return factories.login(client, "sophie", role="admin")


def cover(client, person, position, start, end, reason="Alice est malade"):
    return client.post(
        "/rota/cover",
        data={
            "person": person,
            "position": position,
            "start": start,
            "end": end,
            "reason": reason,
            "csrf_token": factories.csrf(client, "/rota"),
        },
        follow_redirects=True,
    )


def undo(client, change_id, reason="Alice va mieux"):
    """« Annuler… » on the list, then « Oui, annuler ce changement » on its question page."""
    return client.post(
        f"/rota/changes/{change_id}/undo",
        data={"reason": reason, "confirm": "1", "csrf_token": factories.csrf(client, "/rota")},
        follow_redirects=True,
    )


def on_call(at: str) -> tuple[str | None, str | None]:
    now = who_is_on_call(current_org(), paris(at))
    return now.primary, now.backup


def test_a_cover_made_in_the_dashboard_changes_who_is_paged_that_night(client, admin, clock):
    page = text(cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30"))
    assert "Changement n° 1 enregistré." in page
    assert re.search(r"Maintenant Principal Chloé Durand Renfort Bruno Petit", page)
    assert (
        "Chloé Durand est principal du mar. 24/11 22:00 au mer. 25/11 08:30, à la place d'Alice Martin"
        in page
    )
    assert "sophie" in page and "Alice est malade" in page

    leave_voicemail("104233")
    assert sms_to(CHLOE) and sms_to(CHLOE)[0].startswith("Astreinte 104233")
    assert sms_to(ALICE) == []


def test_an_undone_cover_gives_the_night_back_and_stays_in_the_timeline(client, admin, clock):
    cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30")
    page = text(undo(client, 1))
    assert "Changement n° 1 annulé." in page
    assert re.search(r"Maintenant Principal Alice Martin Renfort Bruno Petit", page)
    assert (  # the timeline keeps both entries, and says what was undone
        "Changement n° 1 annulé : Chloé Durand est principal du mar. 24/11 22:00 au mer. 25/11 08:30, "
        "à la place d'Alice Martin — Alice va mieux" in page
    )
    assert "à la place d'Alice Martin — Alice est malade" in page
    assert "Le changement n° 1 est déjà annulé." in text(undo(client, 1))

    leave_voicemail("104233")
    assert sms_to(ALICE)[0].startswith("Astreinte 104233") and sms_to(CHLOE) == []


def test_a_cover_overlapping_another_on_the_same_position_is_refused(client, admin, clock):
    cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30")
    page = text(cover(client, "david", "primary", "2026-11-25T06:00", "2026-11-25T12:00"))
    assert (
        "Chevauchement : le changement n° 1 couvre déjà le rôle principal à partir du mer. 25/11 06:00"
        in page
    )
    assert on_call("2026-11-25 07:00") == ("chloe", "bruno")


def test_nobody_is_made_primary_and_backup_at_once(client, admin, clock):
    cover(client, "chloe", "backup", "2026-11-24T22:00", "2026-11-25T08:30", reason="Bruno en congé")
    page = text(cover(client, "chloe", "primary", "2026-11-25T00:00", "2026-11-25T06:00"))
    assert "Chloé Durand serait principal et renfort à la fois à partir du mer. 25/11 00:00" in page
    assert on_call("2026-11-25 01:00") == ("alice", "chloe")


def test_the_backup_moving_up_is_a_swap_with_the_displaced_primary(client, admin, clock):
    cover(client, "bruno", "primary", "2026-11-24T22:00", "2026-11-25T08:30", reason="Alice sans voiture")
    assert on_call("2026-11-25 01:00") == ("bruno", "alice")


def test_a_cover_needs_an_active_person_a_reason_and_a_time_that_exists(client, admin, clock, org):
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["people"] = [p for p in doc["people"] if p["id"] != "emma"]
    doc["escalation"]["director"] = "david"
    load(doc)
    page = text(cover(client, "emma", "primary", "2026-11-24T22:00", "2026-11-25T08:30"))
    assert "Emma Leroy n'est plus actif" in page
    assert "Donnez la raison" in text(
        cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30", "")
    )
    page = text(cover(client, "chloe", "primary", "2027-03-28T02:30", "2027-03-28T08:00"))
    assert "L'heure 2027-03-28 02:30 n'existe pas en Europe/Paris" in page
    assert "La fin vient avant le début." in text(
        cover(client, "chloe", "primary", "2026-11-25T08:00", "2026-11-25T07:00")
    )
    assert on_call("2026-11-25 01:00") == ("alice", "bruno")


def test_an_undo_that_would_reopen_a_gap_is_refused(client, admin, clock):
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["rota"]["backup"] = []  # nobody backs up: a gap the desk fills tonight
    load(doc)
    cover(client, "david", "backup", "2026-11-24T22:00", "2026-11-25T08:30", reason="Renfort pour la nuit")
    assert on_call("2026-11-25 01:00") == ("alice", "david")
    page = text(undo(client, 1))
    assert "Trou : personne ne serait renfort à partir du mar. 24/11 23:10." in page
    assert on_call("2026-11-25 01:00") == ("alice", "david")


def test_two_people_swap_their_weeks(client, admin, clock):
    response = client.post(
        "/rota/swap",
        data={
            "first": "alice",
            "first_week": "2026-11-23",
            "second": "bruno",
            "second_week": "2026-11-30",
            "reason": "Mariage d'Alice",
            "csrf_token": factories.csrf(client, "/rota"),
        },
        follow_redirects=True,
    )
    page = text(response)
    assert (
        "Alice Martin et Bruno Petit échangent leurs semaines (du lun. 23/11 18:00 et du lun. 30/11 18:00)"
        in page
    )
    assert on_call("2026-11-24 23:30") == ("bruno", "alice")
    assert on_call("2026-12-01 23:00") == ("alice", "bruno")
    assert on_call("2026-12-08 23:00") == ("alice", "bruno")  # the week after is the rotation's


def test_loading_the_organisation_file_again_keeps_the_desk_changes(client, admin, clock):
    cover(client, "chloe", "primary", "2026-11-25T18:00", "2026-11-26T08:30", reason="Échange avec Bruno")
    load(yaml.safe_load(ORG_FILE.read_text()))  # the file's own override on the same hours: bruno
    assert on_call("2026-11-25 20:00")[0] == "chloe"  # the desk's change wins
    assert on_call("2026-11-26 09:00") == ("alice", "bruno")


def test_an_agent_changes_the_rota_only_when_the_organisation_file_allows_it(client, clock, org):
    factories.login(client, "agnes")
    assert "Remplacer" not in text(client.get("/rota"))
    answer = client.post("/rota/cover", data={"csrf_token": factories.csrf(client, "/rota")})
    assert answer.status_code == 403
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["rota"]["agents_may_change"] = True
    load(doc)
    assert "Changement n° 1 enregistré." in text(
        cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30")
    )


def test_an_english_speaking_administrator_reads_the_refusal_in_english(client, clock, org):
    factories.login(client, "sam", role="admin", language="en")
    cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30")
    page = text(cover(client, "david", "primary", "2026-11-25T06:00", "2026-11-25T12:00"))
    assert "Overlap: change no. 1 already covers the primary from Wed 25/11 06:00. Undo it first." in page
    assert "Chloé Durand is primary from Tue 24/11 22:00 to Wed 25/11 08:30, instead of Alice Martin" in page


def test_a_save_while_another_writer_holds_sqlite_is_refused_with_a_message(client, admin, clock, app):
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database: two saves both go through its checks")
    other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=1)
    other.execute("BEGIN IMMEDIATE")  # another desk's save, holding the single writer
    try:
        page = text(cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30"))
    finally:
        other.rollback()
        other.close()
    assert "Le planning était enregistré au même instant par quelqu'un d'autre : réessayez." in page
    assert on_call("2026-11-24 23:00") == ("alice", "bruno")  # nothing half-saved
    page = text(cover(client, "chloe", "primary", "2026-11-24T22:00", "2026-11-25T08:30"))
    assert "Changement n° 1 enregistré." in page


def test_undoing_a_swap_asks_first_saying_what_will_be_undone(client, admin, clock):
    week = "2026-11-30"
    client.post(
        "/rota/swap",
        data={
            "first": "alice",
            "first_week": "2026-11-23",
            "second": "bruno",
            "second_week": week,
            "reason": "Mariage",
            "csrf_token": factories.csrf(client, "/rota"),
        },
    )
    listed = client.get("/rota").get_data(as_text=True)
    assert 'href="/rota/changes/1/undo"' in listed and 'action="/rota/changes/1/undo"' not in listed

    # A bare click (no confirmation) undoes nothing: it leads to the question.
    bare = client.post("/rota/changes/1/undo", data={"csrf_token": factories.csrf(client, "/rota")})
    assert bare.status_code == 303 and bare.headers["Location"].endswith("/rota/changes/1/undo")
    question = text(client.get("/rota/changes/1/undo"))
    assert "Annuler le changement n° 1 ?" in question
    assert "échangent leurs semaines" in question and "Mariage" in question
    assert "Oui, annuler ce changement" in question and "Non, le garder" in question
    assert "annulé" not in text(client.get("/rota")).split("Historique du planning")[1]

    page = text(undo(client, 1, reason="Mariage reporté"))
    assert (
        "Changement n° 1 annulé : " in page
        and "échangent leurs semaines" in page.split("Changement n° 1 annulé : ")[1]
    )
    assert "Mariage reporté" in page


def test_the_undo_question_needs_a_known_change_and_the_right_to_change(client, clock, org):
    factories.login(client)  # an agent, and the organisation file lets only administrators change
    assert client.get("/rota/changes/1/undo").status_code == 403
    client.post("/logout", data={"csrf_token": factories.csrf(client, "/now")})
    factories.login(client, "sophie", role="admin")
    assert client.get("/rota/changes/99/undo").status_code == 404
