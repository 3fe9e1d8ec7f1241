"""The dashboard's commands: `astreinte user add NAME --role agent|admin` (password on stdin),
`astreinte user list`, and `astreinte token create NAME [--rotate]` (prints an API token, stored
hashed) / `token list` / `token revoke NAME`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

import clock
from dashboard.api import create_token
from dashboard.auth import hash_password
from models import ApiToken, Role, User, session

MIN_PASSWORD = 10


@click.group("user", help="Users of the agents' dashboard.")
def user_group() -> None:
    pass


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@user_group.command(
    "add", help="Create a user, or set a new password and role with --update. The password is read on stdin."
)
@click.argument("name")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.AGENT.value, show_default=True
)
@click.option("--language", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
@click.option("--update", is_flag=True, help="Change an existing user's password and role.")
@with_appcontext
def add_user(name: str, role: str, language: str, update: bool) -> None:
    name = name.strip()
    if not name or len(name) > 80:
        raise click.BadParameter("1 to 80 characters", param_hint="NAME")
    existing = session.scalar(select(User).where(User.name == name))
    if existing is not None and not update:
        click.echo(f"user {name!r} exists already (use --update to change the password or role)", err=True)
        sys.exit(1)
    password = _read_password()
    if len(password) < MIN_PASSWORD:
        click.echo(f"password: at least {MIN_PASSWORD} characters, read on stdin", err=True)
        sys.exit(1)
    if existing is None:
        existing = User(name=name, created_at=clock.now())
        session.add(existing)
    else:  # a new password ends the user's sessions, a stolen cookie's too (docs/security.md)
        existing.session_epoch = (existing.session_epoch or 0) + 1
    existing.password_hash = hash_password(password)
    existing.role = Role(role)
    existing.language = language
    session.commit()
    click.echo(f"user {name!r} ({role}) {'updated' if update else 'created'}")


@user_group.command("list", help="Every dashboard user: name, role, language, created.")
@with_appcontext
def list_users() -> None:
    users = list(session.scalars(select(User).order_by(User.name)))
    if not users:
        click.echo("no user yet: astreinte user add NAME --role admin")
        return
    for user in users:
        state = f", disabled {user.disabled_at:%Y-%m-%d}" if user.disabled_at else ""
        click.echo(
            f"{user.name:<24} {user.role.value:<6} {user.language:<3} created {user.created_at:%Y-%m-%d}{state}"
        )


def _user_named(name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        click.echo(f"no user named {name!r}", err=True)
        sys.exit(1)
    return user


@user_group.command("disable", help="Stop a user: no login, and their open sessions end at once.")
@click.argument("name")
@with_appcontext
def disable_user(name: str) -> None:
    user = _user_named(name)
    if user.disabled_at is None:
        user.disabled_at = clock.now()
        session.commit()
    click.echo(f"user {name!r} disabled (astreinte user enable {name} lets them in again)")


@user_group.command("enable", help="Let a disabled user log in again.")
@click.argument("name")
@with_appcontext
def enable_user(name: str) -> None:
    user = _user_named(name)
    user.disabled_at = None
    session.commit()
    click.echo(f"user {name!r} enabled")


@click.group("token", help="Bearer tokens of the JSON API.")
def token_group() -> None:
    pass


@token_group.command(
    "create",
    help="Create an API token and print it (it is shown only once). A name already in use is refused; "
    "--rotate replaces its token (the old one stops working at once).",
)
@click.argument("name")
@click.option("--rotate", is_flag=True, help="Replace the token of this name.")
@with_appcontext
def create_token_command(name: str, rotate: bool) -> None:
    name = name.strip()
    if not name or len(name) > 80:
        raise click.BadParameter("1 to 80 characters", param_hint="NAME")
    existing = list(session.scalars(select(ApiToken).where(ApiToken.name == name)))
    if existing and not rotate:
        click.echo(f"a token named {name!r} exists already (--rotate replaces it)", err=True)
        sys.exit(1)
    for row in existing:
        session.delete(row)
    session.flush()
    click.echo(create_token(name))  # commits the deletion with the new token: no moment without one


@token_group.command("list", help="The API tokens by name (never the tokens themselves).")
@with_appcontext
def list_tokens() -> None:
    for row in session.scalars(select(ApiToken).order_by(ApiToken.name)):
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
        click.echo(f"{row.name:<24} created {row.created_at:%Y-%m-%d}, {used}")


@token_group.command("revoke", help="Delete every API token named NAME.")
@click.argument("name")
@with_appcontext
def revoke_token_command(name: str) -> None:
    rows = list(session.scalars(select(ApiToken).where(ApiToken.name == name)))
    if not rows:
        click.echo(f"no token named {name!r}", err=True)
        sys.exit(1)
    for row in rows:
        session.delete(row)
    session.commit()
    click.echo(f"{len(rows)} token(s) named {name!r} revoked")
