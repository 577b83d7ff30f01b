"""Steps the browser flows share: signing in through /login, a second browser, page text."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.support import LiveSite


def log_in(page: Page, email: str, password: str) -> None:
    """Signs in through the /login form, as a reader types it; lands on the home page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: not url.rstrip("/").endswith("/login"))
    assert page.get_by_role("link", name="Account").is_visible(), "not signed in"


def other_browser(browser: Browser, live_site: LiveSite) -> BrowserContext:
    """A second person's browser (no cookie shared with `page`); the caller closes it."""
    return browser.new_context(base_url=live_site.url)


def main_text(page: Page) -> str:
    """What the page's <main> shows (visible text only)."""
    return page.get_by_role("main").inner_text()
