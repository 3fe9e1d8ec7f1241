"""Browser fixtures: the application served on 127.0.0.1 in a thread, and Debian's chromium driven by
Playwright. Without /usr/bin/chromium the browser tests are skipped, unless CI is set: then they fail."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium (Playwright's own browsers are not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI: install the chromium package (apt-get install chromium)")
    pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium); CI is not set, so skipped")


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    with serve(app) as url:
        yield url


_SHARED: dict[str, Any] = {}  # one chromium for the session, whichever test module asks first


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Each test module imports this fixture, so pytest holds one definition per module: a second
    # sync Playwright inside the first one's event loop would fail, hence one browser, shared.
    need_chromium()
    if "browser" in _SHARED:
        yield _SHARED["browser"]
        return
    with chromium() as b:
        _SHARED["browser"] = b
        try:
            yield b
        finally:
            _SHARED.pop("browser", None)


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page: Any, name: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Nom").fill(name)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/now")
