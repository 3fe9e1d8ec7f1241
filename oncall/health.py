"""What /healthz reports beyond reachability: problems an operator must fix before tonight."""

from __future__ import annotations

from oncall.load import NoOrganisation, current_org


def problems() -> list[str]:
    try:
        current_org()
    except NoOrganisation as exc:
        return [str(exc)]
    return []
