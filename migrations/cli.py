"""`astreinte db`: the schema's state, history, upgrade and downgrade (Alembic, through this package)."""

from __future__ import annotations

import re

import click
from flask import current_app
from flask.cli import with_appcontext

from migrations import current, downgrade, head, history, upgrade


@click.group("db", help="The database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply every migration (creates the database when needed).")
@with_appcontext
def db_upgrade() -> None:
    upgrade(current_app.extensions["engine"])
    click.echo("database up to date")


@db_group.command("current", help="The revision the database is at, and whether it is the newest.")
@with_appcontext
def db_current() -> None:
    at, newest = current(current_app.extensions["engine"]), head()
    known = [rev.id for rev in history()]
    if at is None:
        click.echo("empty database (no migration applied): run `astreinte db upgrade`")
    elif at == newest:
        click.echo(f"{at} (head: up to date)")
    elif at in known:
        behind = known.index(at)
        click.echo(f"{at}: {behind} migration(s) behind {newest}: run `astreinte db upgrade`")
    else:
        click.echo(f"{at}: unknown to this version of astreinte (its newest is {newest})")


@db_group.command("history", help="Every migration, newest first; the database's is marked.")
@with_appcontext
def db_history() -> None:
    at = current(current_app.extensions["engine"])
    for rev in history():
        mark = "  <- the database" if rev.id == at else ""
        click.echo(f"{rev.id:<24} {rev.doc}{mark}")


@db_group.command(
    "downgrade",
    help="Undo the migrations above REVISION (an id from `db history`, -1, or base). Back up first: "
    "what they added is dropped with its data.",
    context_settings={"ignore_unknown_options": True},  # `-1` is a revision, not an option
)
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    engine = current_app.extensions["engine"]
    before = current(engine)
    known = {rev.id for rev in history()}
    if revision not in known and revision != "base" and not re.fullmatch(r"-\d+", revision):
        raise click.ClickException(f"unknown revision {revision!r}: see `astreinte db history`")
    try:
        downgrade(engine, revision)
    except Exception as exc:  # noqa: BLE001 - Alembic's refusal, said in one line
        raise click.ClickException(f"downgrade to {revision} refused: {exc}") from exc
    click.echo(f"database downgraded from {before or 'nothing'} to {current(engine) or 'base'}")
