"""Screenshots of the agents' dashboard for the README: `.venv/bin/python docs/screenshots.py`.

A throw-away instance (SQLite, local recordings) gets the example organisation and the night of the
tests (tests/factories.py), then Debian's chromium photographs each page into docs/screenshots/.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import clock  # noqa: E402
import models  # noqa: E402
from org.load import load, read_file  # noqa: E402
from tests.browser import chromium, serve  # noqa: E402
from tests.conftest import paris  # noqa: E402
from wsgi import create_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = [
    ("now", "/now"),
    ("calls", "/calls"),
    ("tickets", "/tickets"),
    ("ticket", "/tickets/104233"),
    ("ticket-standby", "/tickets/104260"),
    ("rota", "/rota"),
    ("reports", "/reports?month=2026-11"),
    ("page-tests", "/page-tests"),
]


def main() -> None:
    from oncall.callouts import set_ticket_status as change_status
    from oncall.overrides import cover
    from org.load import current_org
    from tests import factories

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        app = create_app(
            {
                "INSTANCE": instance,
                "DATABASE_URL": f"sqlite:///{instance / 'shots.db'}",
                "SECRET_KEY": "screenshots",
                "RECORDINGS_DIR": instance / "recordings",
                "TASKS_INLINE": True,
                "TWILIO_OUTBOX": True,
            }
        )
        models.Base.metadata.create_all(app.extensions["engine"])
        with app.app_context():
            clock.set(paris("2026-11-24 22:40"))
            doc = read_file(ROOT / "examples" / "org.yaml")
            doc["rota"]["agents_may_change"] = True  # the rota page with its forms
            load(doc)
            night = factories.night()
            evening_tests()
            factories.user("agnes", "correct horse battery")
            clock.set(paris("2026-11-25 03:45"))
        OUT.mkdir(parents=True, exist_ok=True)
        with serve(app) as url, chromium() as browser:
            page = browser.new_page(base_url=url, viewport={"width": 1280, "height": 860}, locale="fr-FR")
            page.goto("/login")
            page.screenshot(path=str(OUT / "login.png"))
            page.get_by_label("Nom").fill("agnes")
            page.get_by_label("Mot de passe").fill("correct horse battery")
            page.get_by_role("button", name="Se connecter").click()
            page.wait_for_url("**/now")
            shoot(page, "now", "/now")  # 03:45, Bruno has not answered yet
            with app.app_context():  # the morning after
                callout = models.session.get(models.Callout, night.open_callout.id)
                assert callout is not None
                factories.take_over(callout, "bruno", "sms", "2026-11-25 03:52")
                clock.set(paris("2026-11-25 09:10"))
                change_status(factories.ticket("104233"), "in_progress", actor="agnes")
                change_status(
                    factories.ticket("104260"),
                    "client_standby",
                    actor="agnes",
                    note="le client teste son lien",
                )
                clock.set(paris("2026-11-25 09:40"))
                org = current_org()
                cover(
                    org,
                    "chloe",
                    "primary",
                    paris("2026-11-27 18:00"),
                    paris("2026-11-28 08:30"),
                    "Alice en formation à Nantes",
                    "agnes",
                )
            for name, path in PAGES[1:]:
                shoot(page, name, path)
        clock.release()


def evening_tests() -> None:
    """Yesterday's evening test: Alice's page went through, Bruno's SMS did not reach his phone."""
    for person, phone, sms, error in (
        ("alice", "+33612345678", "delivered", None),
        ("bruno", "+33623456789", "undelivered", "30003"),
    ):
        models.session.add(
            models.PageTest(
                person_id=person,
                origin="evening",
                night="2026-11-24",
                to_number=phone,
                channels="sms",
                sms_sid=f"SM{person}",
                sms_status=sms,
                sms_error=error,
                created_at=paris("2026-11-24 18:05"),
                finished_at=paris("2026-11-24 18:15"),
                outcome="ok" if error is None else "failed",
            )
        )
    models.session.commit()


def shoot(page: object, name: str, path: str) -> None:
    page.goto(path)  # type: ignore[attr-defined]
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
    print(f"docs/screenshots/{name}.png")


if __name__ == "__main__":
    main()
