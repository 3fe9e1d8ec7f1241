"""What /healthz reports beyond reachability: problems an operator must fix before tonight."""

from __future__ import annotations

import clock
from oncall.load import NoOrganisation, current_org
from oncall.policy import role_label


def rota_gaps() -> list[str]:
    """On-call positions that nobody holds now (a loud problem: the next policy step would run)."""
    from oncall.rota import gaps

    try:
        org = current_org()
    except NoOrganisation:
        return []
    positions = {step.notify for step in org.policy}
    return [p for p in gaps(org, clock.now()) if p in positions]


def problems() -> list[str]:
    try:
        current_org()
    except NoOrganisation as exc:
        return [str(exc)]
    return [f"rota : personne pour le rôle « {role_label(p)} » ({p}) en ce moment" for p in rota_gaps()]
