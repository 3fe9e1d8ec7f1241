"""The administrator's commands: one API token per name (`--rotate` replaces it), and the users and
tokens listed without their secrets."""

from __future__ import annotations

from click.testing import CliRunner


def _run(app, *args: str, input: str | None = None):
    return CliRunner().invoke(app.cli, list(args), input=input)


def test_a_second_token_of_the_same_name_is_refused_and_rotate_replaces_it(app, org):
    first = _run(app, "token", "create", "crm").output.strip()
    again = _run(app, "token", "create", "crm")
    assert again.exit_code == 1 and "exists already (--rotate replaces it)" in again.output
    api = app.test_client()
    assert api.get("/api/calls", headers={"Authorization": f"Bearer {first}"}).status_code == 200

    rotated = _run(app, "token", "create", "crm", "--rotate")
    second = rotated.output.strip()
    assert rotated.exit_code == 0 and second.startswith("ast_") and second != first
    assert api.get("/api/calls", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert api.get("/api/calls", headers={"Authorization": f"Bearer {second}"}).status_code == 200

    listed = _run(app, "token", "list").output
    assert listed.startswith("crm ") and "never used" not in listed and second not in listed


def test_user_list_names_each_user_and_role(app):
    assert "no user yet" in _run(app, "user", "list").output
    _run(app, "user", "add", "bea", "--role", "admin", input="a long passphrase\n")
    _run(app, "user", "add", "agnes", input="another passphrase\n")
    lines = _run(app, "user", "list").output.splitlines()
    assert [line.split()[:2] for line in lines] == [["agnes", "agent"], ["bea", "admin"]]
    assert "passphrase" not in "".join(lines)


def test_a_disabled_user_is_logged_out_at_once_and_cannot_log_in_again(app, org, client):
    from . import factories

    factories.login(client, "agnes")
    assert client.get("/now").status_code == 200
    result = _run(app, "user", "disable", "agnes")
    assert result.exit_code == 0, result.output
    assert client.get("/now").status_code == 302  # the open session ended
    form = {"name": "agnes", "password": "correct horse battery", "csrf_token": factories.csrf(client)}
    assert client.post("/login", data=form).status_code == 401
    assert "disabled" in _run(app, "user", "list").output

    _run(app, "user", "enable", "agnes")
    assert client.post("/login", data=form).status_code == 302
