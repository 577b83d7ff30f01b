"""Real-browser fixtures: Debian's Chromium driven by Playwright against the live site.

Per xdist worker (session scope): one live server (uvicorn in a thread, on the test
database) and one Chromium. Per test: a fresh browser context (no cookies carried over),
a `page` in it, and the live site's in-process state (the throttle) reset. Nothing is
downloaded: Chromium is /usr/bin/chromium (or FOLIO_CHROMIUM), axe-core ships in
axe-playwright-python. Without Chromium the whole directory is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from app.config import get_settings
from app.main import create_app
from tests.browser.support import ARTIFACTS, LiveSite, PlaywrightLoop, chromium_args
from tests.support.live_server import live_server

CHROMIUM = os.environ.get("FOLIO_CHROMIUM", "/usr/bin/chromium")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A skip at this conftest's import would abort the run when pytest loads it before
    # collecting (`pytest tests/browser`): each test here is marked skipped instead.
    if os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(
        reason=f"browser tests need Chromium at {CHROMIUM} "
        "(apt-get install chromium, or point FOLIO_CHROMIUM at one)"
    )
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _live_server() -> Iterator[tuple[str, FastAPI]]:
    # Its own app: the lifespan's outbox sender stays off under tests (FOLIO_ENV=test), so
    # emails wait in the outbox until the test delivers them (`mailbox`, email_link).
    app = create_app()
    with live_server(app) as server_url:
        yield server_url, app


@pytest.fixture
def live_site(_live_server: tuple[str, FastAPI]) -> LiveSite:
    server_url, app = _live_server
    app.state._state.clear()  # the throttle starts afresh, as with the `client` fixture
    return LiveSite(get_settings().base_url, server_url, app)


@pytest.fixture(scope="session")
def browser(_live_server: tuple[str, FastAPI]) -> Iterator[Browser]:
    playwright = sync_playwright().start()
    PlaywrightLoop.capture()
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=chromium_args(_live_server[0])
    )
    yield chromium
    PlaywrightLoop.resume()  # the last test parked it
    chromium.close()
    playwright.stop()


@pytest.fixture(autouse=True)
def _playwright_loop() -> Iterator[None]:
    PlaywrightLoop.resume()
    yield
    PlaywrightLoop.park()


@pytest.fixture
def page(browser: Browser, live_site: LiveSite, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a new context; relative URLs (page.goto("/login")) go to the live site.
    A failing test leaves tests/artifacts/failed-<test>.png."""
    # Playwright's default 30 s per step stays: on a loaded two-core machine Swagger UI
    # alone took over 10 s to draw.
    context = browser.new_context(base_url=live_site.url)
    page = context.new_page()
    yield page
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed and not page.is_closed():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"failed-{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]  (read by `page` above)
    return report
