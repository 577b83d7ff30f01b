"""The browser harness itself: the live site in Chromium, offline assets, CSRF, axe checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request

from tests.browser.support import (
    LiveSite,
    assert_accessible,
    email_html,
    email_link,
    screenshot,
)
from tests.support.smtp import Mailbox

FOREIGN_FORM = """<!doctype html><html lang="en"><title>Elsewhere</title><main>
<h1>Win a prize</h1>
<form method="post" action="{action}">
<input type="hidden" name="username" value="victim@example.org">
<button type="submit">Claim</button></form></main></html>"""


def test_swagger_ui_renders_from_our_own_assets(page: Page, live_site: LiveSite) -> None:
    requested: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    # The title is drawn by Swagger UI's JavaScript from /openapi.json, not in the HTML.
    title = page.get_by_role("heading", level=1)
    title.wait_for()
    assert title.inner_text().startswith("Folio")
    assert page.locator("#operations-tag-auth").is_visible()
    foreign = [url for url in requested if not url.startswith(live_site.url + "/")]
    assert requested and not foreign, f"requests that leave the site: {foreign}"


def test_stylesheet_is_served_and_applies(page: Page, live_site: LiveSite) -> None:
    response = page.goto("/static/folio.css")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    page.set_content(
        f'<link rel="stylesheet" href="{live_site("/static/folio.css")}">'
        '<p class="visually-hidden">Only for screen readers</p>'
    )
    hidden = page.locator(".visually-hidden")
    assert hidden.evaluate("node => getComputedStyle(node).width") == "1px"


def test_a_form_on_another_site_cannot_post_to_ours(page: Page, live_site: LiveSite) -> None:
    page.route(
        "http://elsewhere.test/**",
        lambda route: route.fulfill(
            content_type="text/html", body=FOREIGN_FORM.format(action=live_site("/login"))
        ),
    )
    page.goto("http://elsewhere.test/")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Claim").click()
    response = navigation.value
    assert response is not None and response.status == 403
    assert page.url == live_site("/login")
    assert page.get_by_role("heading", level=1).inner_text() == "This form has expired"
    assert_accessible(page)
    assert screenshot(page, "csrf-refused").stat().st_size > 0


def test_a_same_site_post_without_the_token_is_refused(page: Page) -> None:
    page.goto("/static/folio.css")  # any page of the site: fetch() below is same-origin
    status = page.evaluate(
        """async () => (await fetch("/login", {method: "POST",
            body: new URLSearchParams({username: "a@example.org", password: "x"})})).status"""
    )
    assert status == 403


def test_assert_accessible_names_serious_violations(page: Page) -> None:
    page.set_content(
        '<html lang="en"><title>Bad</title><main><h1>Bad</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<button type="submit"></button></main></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "image-alt (critical)" in message
    assert "button-name (critical)" in message
    assert_accessible(page, ignore=("image-alt", "button-name"))


def test_the_link_in_an_email_opens_on_the_live_site(
    page: Page, live_site: LiveSite, mailbox: Mailbox
) -> None:
    page.goto("/healthz")  # on the site, so fetch() below is same-origin
    status = page.evaluate(
        """async () => (await fetch("/api/v1/auth/register", {method: "POST",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({email: "new@example.org", password: "a long passphrase"})
        })).status"""
    )
    assert status == 202
    link = email_link(mailbox, "verify", to="new@example.org")
    assert link.startswith(live_site("/verify?token="))
    page.set_content(email_html(mailbox, to="new@example.org"))
    with page.expect_navigation() as navigation:
        page.get_by_role("link", name=link).click()
    # Chromium reached the live server at FOLIO_BASE_URL's host (an unmapped host would
    # be a network error: no response at all).
    assert navigation.value is not None
    assert page.url == link
