"""The page tests in the dashboard: every test of the last 7 days with what came back, and a button
that sends a test SMS and call to one person (the desk checks a new phone, or a pager that failed its
evening test, in daylight)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

import clock
import tasks
from dashboard.auth import current_user, language
from dashboard.web import bp
from models import Person, session
from oncall import pagetests
from words.ui import t


@bp.get("/page-tests")
def page_tests() -> str:
    lang = language()
    tests = pagetests.recent(clock.now())
    return render_template(
        "desk/page_tests.html",
        tests=tests,
        problems={test.id: pagetests.what_failed(test, lang) for test in tests if test.outcome},
        people=list(
            session.scalars(
                select(Person).where(Person.active.is_(True), Person.phone != "").order_by(Person.name)
            )
        ),
    )


@bp.post("/page-tests")
def test_page() -> Response:
    """Send one person a test SMS and call, now (the worker sends it; the page shows what came back)."""
    person = session.get(Person, request.form.get("person", ""))
    if person is None or not person.phone:
        flash(t("Personne inconnue.", language()), "error")
        return redirect(url_for("dashboard.page_tests"))
    user = current_user()
    test = pagetests.start(person, ("sms", "voice"), "dashboard", requested_by=user.name if user else None)
    assert test is not None
    tasks.enqueue(pagetests.send_test, test.id)
    flash(t("Test d'alerte de {name} envoyé : SMS et appel.", language(), name=person.name))
    return redirect(url_for("dashboard.page_tests"))
