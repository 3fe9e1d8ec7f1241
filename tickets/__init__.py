"""The ticket store: clients, services, PINs, tickets and their timeline, the API and the agents' views."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    pass
