"""Ahead of time: the rota page shows the next four weeks and flags the gaps within 14 days; the
supervisor gets one SMS for a gap that opens within 24 hours."""

from __future__ import annotations

import pytest
import yaml

from oncall.sweeper import sweep
from org.load import load
from tests import factories
from tests.conftest import ORG_FILE
from tests.oncall_helpers import CHLOE
from tests.phone import sms_to

text = factories.visible_text


@pytest.fixture
def no_backup_from_wednesday(app, clock):
    """Nobody in the backup rotation; David backs up until Wednesday 25 November, 06:00."""
    doc = yaml.safe_load(ORG_FILE.read_text())
    doc["rota"]["backup"] = []
    doc["rota"]["overrides"] = [
        {"from": "2026-11-20 00:00", "to": "2026-11-25 06:00", "position": "backup", "person": "david"}
    ]
    load(doc)


def test_the_rota_page_shows_four_weeks_and_flags_a_missing_backup(client, no_backup_from_wednesday):
    factories.login(client)
    page = text(client.get("/rota"))
    assert "Les 4 prochaines semaines" in page
    assert "lun. 14/12 18:00 lun. 21/12 18:00" in page  # the fourth week ends on 22 December 23:10
    assert "lun. 21/12 18:00 lun. 28/12 18:00" not in page
    assert "À compléter dans les 14 jours" in page
    assert "pas de renfort renfort : mer. 25/11 06:00 → mar. 08/12 23:10" in page


def test_a_gap_within_24_hours_is_sent_to_the_supervisor_once(app, clock, no_backup_from_wednesday):
    sweep()
    sweep()
    assert sms_to(CHLOE) == [
        "Astreinte : personne n'est renfort à partir du mercredi 25/11 à 06:00. "
        "Complétez le planning dans le tableau de bord."
    ]
    clock.advance(hours=12)
    sweep()
    gaps = [body for body in sms_to(CHLOE) if body.startswith("Astreinte : personne")]
    assert len(gaps) == 1  # (she may be texted of other things meanwhile: a missed resolution)


def test_a_gap_further_than_24_hours_waits(app, clock, no_backup_from_wednesday):
    clock.set("2026-11-24 05:59")
    sweep()
    assert sms_to(CHLOE) == []
    clock.set("2026-11-24 06:01")
    sweep()
    assert len(sms_to(CHLOE)) == 1


def test_the_healthz_warning_stays(client, clock, no_backup_from_wednesday):
    body = client.get("/healthz").get_json()
    assert any("(backup) à partir du 25/11 à 06:00" in w for w in body["warnings"])
