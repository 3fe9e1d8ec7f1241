"""The on-call commands: `astreinte load`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from org.load import is_empty, load, read_file
from org.orgfile import OrgFileError


@click.command("load", help="Load an organisation file (idempotent; refused whole if anything is wrong).")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--if-empty", is_flag=True, help="Only when no organisation is loaded yet.")
@with_appcontext
def load_command(path: Path, if_empty: bool) -> None:
    if if_empty and not is_empty():
        click.echo("an organisation is already loaded; left as it is")
        return
    try:
        changed = load(read_file(path))
    except OrgFileError as exc:
        click.echo(f"{path}: refused, nothing was loaded:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    summary = ", ".join(f"{n} {kind}" for kind, n in changed.items() if n)
    click.echo(f"{path}: loaded ({summary or 'nothing changed'})")
