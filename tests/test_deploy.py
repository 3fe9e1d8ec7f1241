"""What docs/deploy.md ships in deploy/: systemd units that `systemd-analyze verify` accepts, and the
number's static fallback TwiML (French first, a message recorded at Twilio, then thanks)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import ROOT

DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path):
    # The units name /opt/astreinte/venv: verify them against this checkout's executables.
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/astreinte/venv/bin/", f"{ROOT}/.venv/bin/")
        text = text.replace("/opt/astreinte/deploy/", f"{DEPLOY}/")
        (tmp_path / unit.name).write_text(text)
    (tmp_path / "astreinte-worker@1.service").write_text((tmp_path / "astreinte-worker@.service").read_text())
    units = [
        "astreinte-web.service",
        "astreinte-worker@1.service",
        "astreinte-migrate.service",
        "astreinte.target",
        "astreinte-backup.service",
        "astreinte-backup.timer",
    ]
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_fallback_twiml_records_a_message_at_twilio_and_thanks_the_caller():
    fallback = ET.parse(DEPLOY / "twilio" / "fallback.xml").getroot()
    verbs = [child.tag for child in fallback]
    assert verbs == ["Say", "Say", "Record", "Say", "Hangup"]
    assert fallback[0].get("language") == "fr-FR" and "problème technique" in (fallback[0].text or "")
    record = fallback[2]
    assert (
        record.get("action", "").endswith("/fallback-thanks.xml") and int(record.get("maxLength", "0")) >= 60
    )
    thanks = ET.parse(DEPLOY / "twilio" / "fallback-thanks.xml").getroot()
    assert [child.tag for child in thanks] == ["Say", "Hangup"]
