"""The console in Chromium: an editor's change to a report is previewed (the new teaser cut
and the footnote warnings) and changes nothing until it is saved."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.browser.flows import log_in, other_browser
from tests.browser.support import LiveSite
from tests.support.app import Account

OLD_BODY = "The old opening paragraph.\n\n<!-- paywall -->\n\nThe old closing paragraph."
NEW_BODY = (
    "A new opening paragraph.\n\n"
    "A second paragraph, now before the cut.\n\n"
    "<!-- paywall -->\n\n"
    "The new closing paragraph, citing a note that is missing.[^9]"
)


def test_an_admin_previews_a_moved_cut_before_saving_it(
    page: Page,
    browser: Browser,
    live_site: LiveSite,
    admin: Account,
    publish: Callable[..., dict],
) -> None:
    slug = publish(title="Cut moves", body=OLD_BODY, summary="")["slug"]

    def public_teaser() -> str:
        """What a new anonymous visitor sees: a browser of its own each time, since the
        anonymous preview is cacheable (public, max-age) and a browser that saw it keeps it."""
        context = other_browser(browser, live_site)
        try:
            public = context.new_page()
            public.goto(f"/reports/{slug}")
            expect(public.locator("aside.paywall")).to_be_visible()
            assert "closing paragraph" not in public.content()
            return public.locator(".report-body").inner_text()
        finally:
            context.close()

    assert "The old opening paragraph." in public_teaser()

    log_in(page, admin.email, admin.password)
    page.goto(f"/admin/reports/{slug}/edit")
    page.get_by_label("Body (Markdown)").fill(NEW_BODY)
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview (not saved)")
    expect(preview).to_be_visible()
    teaser = preview.get_by_role("article", name=re.compile("the teaser cut"))
    expect(teaser).to_contain_text("A second paragraph, now before the cut.")
    expect(teaser).not_to_contain_text("The new closing paragraph")
    expect(preview.get_by_role("status")).to_contain_text("citation [^9] has no note")
    # The form keeps what was typed, and nothing is stored yet.
    expect(page.get_by_label("Body (Markdown)")).to_have_value(NEW_BODY)
    text = public_teaser()
    assert "The old opening paragraph." in text and "A second paragraph" not in text

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"done=report-saved"))
    expect(page.get_by_role("region", name="Warnings from the last save")).to_contain_text(
        "citation [^9] has no note"
    )
    text = public_teaser()
    assert "A second paragraph, now before the cut." in text
    assert "old opening" not in text
