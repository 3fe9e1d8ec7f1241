"""A gap in the rota shows as a banner on every dashboard page (and as a warning of /healthz, which
stays 200): the desk sees it in the morning, before the night that would page nobody."""

from __future__ import annotations

from models import Person, session

from . import factories


def test_a_gap_in_the_rota_is_a_banner_on_the_dashboard(client, org, clock):
    factories.login(client)
    assert "personne pour le rôle" not in client.get("/now").get_data(as_text=True)
    session.get(Person, "bruno").active = False  # left, still in the rota
    session.commit()
    for page in ("/now", "/calls", "/rota"):
        html = client.get(page).get_data(as_text=True)
        assert "rota : personne pour le rôle « astreinte de secours » (backup) en ce moment" in html, page
    assert client.get("/healthz").status_code == 200
