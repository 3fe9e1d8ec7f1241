"""`astreinte demo`: a scripted night, offline (placeholder while the script is written)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("demo", help="Play a scripted night offline: two calls, pages, a takeover, an escalation.")
@with_appcontext
def demo_command() -> None:
    click.echo("demo: not ready yet")
