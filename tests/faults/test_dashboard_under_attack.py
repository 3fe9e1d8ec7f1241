"""The dashboard's login under attack: a stranger guessing does not lock the agent out, a dead Redis
does not open the door to guessing, and a session cookie copied before a logout dies with it."""

from __future__ import annotations

import redis

from dashboard.auth import _LOCAL

from .. import factories

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
AGENT_DESK = {"REMOTE_ADDR": "192.0.2.10"}


def _try(client, name: str, password: str, where: dict[str, str]) -> int:
    token = factories.csrf(client)
    answer = client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}, environ_base=where
    )
    return answer.status_code


def test_a_strangers_guesses_lock_the_stranger_out_not_the_agent(app, org):
    factories.user("agnes", "correct horse battery")
    stranger = app.test_client()
    codes = [_try(stranger, "agnes", f"guess {i}", STRANGER) for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert _try(stranger, "agnes", "correct horse battery", STRANGER) == 429
    assert _try(app.test_client(), "agnes", "correct horse battery", AGENT_DESK) == 302


def test_one_address_trying_many_names_is_stopped(app, org):
    factories.user("agnes", "correct horse battery")
    stranger = app.test_client()
    codes = [_try(stranger, f"name{i}", "guess", STRANGER) for i in range(31)]
    assert codes[-1] == 429 and codes.count(401) == 30
    assert _try(stranger, "agnes", "correct horse battery", STRANGER) == 429


def test_the_throttle_holds_when_redis_is_down(app, org):
    factories.user("agnes", "correct horse battery")
    app.extensions["redis"] = redis.Redis.from_url(
        "redis://127.0.0.1:9/0", socket_timeout=0.2, socket_connect_timeout=0.2
    )  # nothing listens there: Redis is down
    _LOCAL.clear()
    stranger = app.test_client()
    codes = [_try(stranger, "agnes", f"guess {i}", STRANGER) for i in range(11)]
    assert codes[-1] == 429
    assert _try(app.test_client(), "agnes", "correct horse battery", AGENT_DESK) == 302
    _LOCAL.clear()


def test_a_session_cookie_copied_before_logout_stops_working_after_it(app, org):
    browser = app.test_client()
    factories.login(browser)
    assert browser.get("/now").status_code == 200
    cookie = browser.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=cookie.domain)
    assert thief.get("/now").status_code == 200  # a copy works while the session lives
    browser.post("/logout", data={"csrf_token": factories.csrf(browser, "/now")})
    assert thief.get("/now").status_code == 302  # and not after the logout
    assert browser.get("/now").status_code == 302
    factories_login_again = _try(browser, "agnes", "correct horse battery", AGENT_DESK)
    assert factories_login_again == 302 and browser.get("/now").status_code == 200
