"""Administrators manage the desk's accounts from the Users page: add someone, disable and enable them,
reset a password (which ends that person's open sessions), change a role. Agents cannot; forms without
their token change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Role, User, session

from . import factories

text = factories.visible_text


@pytest.fixture
def admin(client, clock, org):
    return factories.login(client, "root", "another long password", role=Role.ADMIN)


def _token(client) -> str:
    return factories.csrf(client, "/admin/users")


def _post(client, path: str, **form: str):
    return client.post(path, data={"csrf_token": _token(client), **form}, follow_redirects=True)


def _user(name: str) -> User:
    row = session.scalar(select(User).where(User.name == name).execution_options(populate_existing=True))
    assert row is not None
    return row


def _log_in(app, name: str, password: str):
    """Another browser, logging in through the form; returns it and the status of the attempt."""
    other = app.test_client()
    answer = other.post(
        "/login", data={"name": name, "password": password, "csrf_token": factories.csrf(other)}
    )
    return other, answer.status_code


def test_an_admin_adds_a_user_who_can_then_log_in(app, client, admin):
    page = text(
        _post(
            client, "/admin/users", name="Bérénice", role="agent", language="fr", password="a long password 1"
        )
    )
    assert "Bérénice peut se connecter (agent)." in page
    assert "Bérénice" in text(client.get("/admin/users"))
    browser, status = _log_in(app, "Bérénice", "a long password 1")
    assert status == 302
    assert browser.get("/now").status_code == 200
    assert browser.get("/admin/users").status_code == 403  # an agent


def test_resetting_a_password_ends_that_persons_sessions(app, client, admin):
    factories.user("agnes")
    browser, status = _log_in(app, "agnes", "correct horse battery")
    assert status == 302 and browser.get("/now").status_code == 200

    page = text(_post(client, f"/admin/users/{_user('agnes').id}/password", password="a brand new secret"))
    assert "Mot de passe d'agnes changé : ses sessions ouvertes sont fermées." in page
    assert browser.get("/now").headers["Location"].startswith("/login")  # her open session ended
    assert _log_in(app, "agnes", "correct horse battery")[1] == 401
    assert _log_in(app, "agnes", "a brand new secret")[1] == 302
    assert client.get("/now").status_code == 200  # the admin's own session goes on


def test_disabling_ends_sessions_and_enabling_needs_a_new_login(app, client, admin):
    factories.user("agnes")
    browser, _ = _log_in(app, "agnes", "correct horse battery")
    agnes = _user("agnes").id

    assert "agnes est désactivé" in text(_post(client, f"/admin/users/{agnes}/disable"))
    assert browser.get("/now").status_code == 302
    assert _log_in(app, "agnes", "correct horse battery")[1] == 401
    assert "désactivé le" in text(client.get("/admin/users"))

    assert "agnes peut de nouveau se connecter." in text(_post(client, f"/admin/users/{agnes}/enable"))
    assert browser.get("/now").status_code == 302  # the old cookie stays dead
    assert _log_in(app, "agnes", "correct horse battery")[1] == 302


def test_changing_a_role_opens_or_closes_the_users_page(app, client, admin):
    factories.user("agnes")
    browser, _ = _log_in(app, "agnes", "correct horse battery")
    assert browser.get("/admin/users").status_code == 403
    page = text(_post(client, f"/admin/users/{_user('agnes').id}/role", role="admin"))
    assert "agnes est maintenant administrateur." in page
    assert browser.get("/admin/users").status_code == 200
    _post(client, f"/admin/users/{_user('agnes').id}/role", role="agent")
    assert browser.get("/admin/users").status_code == 403


def test_the_desk_cannot_lock_itself_out(client, admin):
    me = admin.id
    assert "votre propre compte" in text(_post(client, f"/admin/users/{me}/disable"))
    page = text(_post(client, f"/admin/users/{me}/role", role="agent"))
    assert "dernier administrateur actif" in page
    assert _user("root").role is Role.ADMIN and _user("root").disabled_at is None
    assert client.get("/admin/users").status_code == 200


def test_an_agent_gets_403_on_every_change(app, client, clock, org):
    target = factories.user("bruno", "bruno's password", role=Role.ADMIN)
    factories.login(client)  # agnes, an agent
    token = factories.csrf(client, "/now")
    for path, form in [
        ("/admin/users", {"name": "mallory", "role": "admin", "language": "fr", "password": "x" * 20}),
        (f"/admin/users/{target.id}/disable", {}),
        (f"/admin/users/{target.id}/password", {"password": "taken over by an agent"}),
        (f"/admin/users/{target.id}/role", {"role": "agent"}),
    ]:
        assert client.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    assert session.scalar(select(User).where(User.name == "mallory")) is None
    bruno = _user("bruno")
    assert bruno.role is Role.ADMIN and bruno.disabled_at is None
    assert _log_in(app, "bruno", "bruno's password")[1] == 302


def test_a_form_without_its_token_changes_nothing(app, client, admin):
    factories.user("agnes")
    agnes = _user("agnes").id
    forged = [
        ("/admin/users", {"name": "mallory", "role": "admin", "language": "fr", "password": "x" * 20}),
        (f"/admin/users/{agnes}/disable", {}),
        (f"/admin/users/{agnes}/password", {"password": "chosen by a forger"}),
        (f"/admin/users/{agnes}/role", {"role": "admin"}),
    ]
    for path, form in forged:
        assert client.post(path, data=form).status_code == 400, path
        assert client.post(path, data={**form, "csrf_token": "forged"}).status_code == 400, path
    assert session.scalar(select(User).where(User.name == "mallory")) is None
    assert _user("agnes").role is Role.AGENT and _user("agnes").disabled_at is None
    assert _log_in(app, "agnes", "correct horse battery")[1] == 302


def test_bad_input_is_refused_with_a_reason(client, admin):
    def add(**form: str) -> str:
        body = {"name": "claire", "role": "agent", "language": "fr", "password": "a long password 2", **form}
        return text(_post(client, "/admin/users", **body))

    assert "Nom : 1 à 80 caractères." in add(name="x" * 81)
    assert "Nom : 1 à 80 caractères." in add(name="   ")
    assert "Mot de passe : 10 caractères au moins." in add(password="short")
    assert "claire peut se connecter" in add()
    assert "claire existe déjà." in add(password="another password")
    assert (
        client.post(
            "/admin/users",
            data={"csrf_token": _token(client), "name": "d", "role": "god", "password": "x" * 12},
        ).status_code
        == 400
    )
    claire = _user("claire").id
    assert "10 caractères au moins" in text(
        _post(client, f"/admin/users/{claire}/password", password="short")
    )
    assert _post(client, "/admin/users/999999/disable").status_code == 404
    assert _post(client, f"/admin/users/{claire}/role", role="root").status_code == 400
    assert len(re.findall(r"claire", text(client.get("/admin/users")))) == 1


def test_the_users_page_reads_in_english(client, admin):
    client.post("/language", data={"lang": "en", "csrf_token": _token(client), "next": "/admin/users"})
    page = text(client.get("/admin/users"))
    assert "Add a user" in page and "Reset" in page and "Disable" not in page.split("root")[1][:40]
