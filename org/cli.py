"""The on-call commands: `astreinte load`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

import clock
from models import Organisation, session
from org.load import is_empty, load, read_file
from org.orgfile import OrgFileError


@click.command("load", help="Load an organisation file (idempotent; refused whole if anything is wrong).")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--if-empty", is_flag=True, help="Only when no organisation is loaded yet.")
@click.option(
    "--if-changed",
    is_flag=True,
    help="Only when no organisation is loaded yet, or the file was edited since it was loaded (`make run`).",
)
@with_appcontext
def load_command(path: Path, if_empty: bool, if_changed: bool) -> None:
    if if_empty and not is_empty():
        click.echo("an organisation is already loaded; left as it is")
        return
    if if_changed and not is_empty():
        loaded = _loaded_at()
        try:
            edited = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError as exc:
            raise click.ClickException(f"{path}: {exc.strerror}") from exc
        if loaded is not None and edited <= loaded:
            click.echo(
                f"{path}: not edited since the organisation was loaded ({loaded:%Y-%m-%d %H:%M} UTC); "
                f"left as it is (`astreinte load {path}` loads it anyway)"
            )
            return
        click.echo(f"{path}: edited since the organisation was loaded: loading it again")
    try:
        changed = load(read_file(path))
    except OrgFileError as exc:
        click.echo(f"{path}: refused, nothing was loaded:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    summary = ", ".join(f"{n} {kind}" for kind, n in changed.items() if n)
    click.echo(f"{path}: loaded ({summary or 'nothing changed'})")


def _loaded_at() -> datetime | None:
    """When the organisation in the database was loaded (UTC)."""
    at = session.scalar(select(Organisation.loaded_at).limit(1))
    return None if at is None else clock.as_utc(at)
