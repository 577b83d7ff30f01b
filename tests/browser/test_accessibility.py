"""axe-core on the pages issue 11 names (no serious or critical violation), and the report
page at phone width."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.flows import log_in
from tests.browser.support import assert_accessible, screenshot
from tests.support.app import Account

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# What reports hold and phones choke on: a hash and a URL with no break, a wide table, code.
BODY = f"""The loader's hash is {SHA256}, served from
https://downloads.example.net/updates/2026/11/30/{SHA256}/installer.exe today.

| Indicator | Kind | First seen | Last seen | Confidence | Campaign |
|---|---|---|---|---|---|
| {SHA256} | sha256 | 2026-11-30 | 2026-12-01 | high | Loader shift |

    powershell -NoProfile -ExecutionPolicy Bypass -EncodedCommand {SHA256}

<!-- paywall -->

The rest."""


def test_the_public_pages_pass_axe_and_the_report_fits_a_phone(
    page: Page, publish: Callable[..., dict]
) -> None:
    slug = publish(title="A report for every screen", body=BODY, tags=["ransomware"])["slug"]
    for path in ("/", f"/reports/{slug}", "/login"):
        page.goto(path)
        assert_accessible(page)
    page.emulate_media(color_scheme="dark")  # the dark palette's contrast, once
    page.goto(f"/reports/{slug}")
    assert_accessible(page)
    page.emulate_media(color_scheme="light")

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/reports/{slug}")
    expect(page.locator("aside.paywall")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the report page scrolls sideways at 375 px: {width} px wide"
    screenshot(page, "report-phone")


def test_the_signed_in_pages_pass_axe(page: Page, admin: Account) -> None:
    log_in(page, admin.email, admin.password)
    for path in ("/account", "/admin/members"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
