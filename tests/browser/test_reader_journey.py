"""A reader's whole way in, in Chromium: register, verify from the email, log in, meet the
paywall, request a subscription, an admin approves it in the console, read the full text;
and a sign-in by the emailed 6-digit code."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.browser.flows import log_in, main_text, other_browser
from tests.browser.support import LiveSite, email_link, screenshot
from tests.support.app import Account
from tests.support.smtp import Mailbox

READER = "new.reader@example.org"
PASSWORD = "a long reader passphrase"
FREE = "Ransomware crews changed their entry point this quarter."
AFTER_CUT = "The three indicators below identify the new loader."


def test_a_new_reader_registers_requests_and_reads_after_approval(
    page: Page,
    browser: Browser,
    live_site: LiveSite,
    mailbox: Mailbox,
    admin: Account,
    publish: Callable[..., dict],
) -> None:
    report = publish(
        title="Loader shift", body=f"{FREE}\n\n<!-- paywall -->\n\n{AFTER_CUT}", summary=""
    )
    report_path = f"/reports/{report['slug']}"

    # Register, filling the form by its labels.
    page.goto("/register")
    page.get_by_label("Email").fill(READER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Name").fill("New Reader")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    # The link from the real SMTP server; opened twice, as a mail scanner's prefetch and
    # then the reader: the GET shows a button and spends nothing.
    link = email_link(mailbox, "verify", to=READER)
    page.goto(link)
    page.goto(link)
    page.get_by_role("button", name="Confirm and sign in").click()
    page.wait_for_url(re.compile(r"/account"))
    expect(page.locator("#account-email")).to_have_text(READER)

    page.get_by_role("main").get_by_role("button", name="Log out").click()
    page.wait_for_url(live_site("/"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    log_in(page, READER, PASSWORD)

    # Signed in without a subscription: the free part and the paywall box, nothing after.
    page.goto(report_path)
    paywall = page.locator("aside.paywall")
    expect(paywall).to_be_visible()
    expect(paywall).to_contain_text("Your account has no subscription that includes")
    expect(page.locator(".report-body")).to_contain_text(FREE)
    assert AFTER_CUT not in page.content()
    screenshot(page, "report-preview")

    paywall.get_by_role("link", name="Request subscription information").click()
    page.wait_for_url(re.compile(r"/account#request-subscription$"))
    form = page.locator("#request-subscription")
    form.get_by_label("Organization").fill("Example Newsroom")
    form.get_by_label("Message").fill("Our desk of six would like Threat Monitor.")
    form.get_by_label("Tier").select_option(label="Threat Pro")
    form.get_by_role("button", name="Send the request").click()
    page.wait_for_url(re.compile(r"done=requested"))
    expect(form.get_by_role("table")).to_contain_text("Example Newsroom")

    # The admin, in a browser of their own, approves it in the console.
    admin_context = other_browser(browser, live_site)
    try:
        console = admin_context.new_page()
        log_in(console, admin.email, admin.password)
        console.goto("/admin/requests")
        card = console.locator("section.card", has_text="Example Newsroom")
        expect(card.get_by_label("Tier")).to_have_value("threat-pro")
        card.get_by_role("button", name=re.compile(r"^Approve request")).click()
        console.wait_for_url(re.compile(r"status=approved"))
        expect(console.locator("section.card", has_text="Example Newsroom")).to_contain_text(
            "Approved"
        )
        console.goto("/admin/members")
        expect(console.get_by_role("table")).to_contain_text(READER)
        screenshot(console, "admin-members")
    finally:
        admin_context.close()

    # Back in the reader's browser: the same page now has the whole text.
    page.goto(report_path)
    expect(page.locator(".report-body")).to_contain_text(AFTER_CUT)
    expect(page.locator("aside.paywall")).to_have_count(0)
    screenshot(page, "report-full")

    page.goto("/account")
    holdings = page.locator("#access").get_by_role("table")
    expect(holdings).to_contain_text("Threat Monitor")
    expect(holdings).to_contain_text("Threat Pro")
    expect(holdings).to_contain_text("Complimentary")
    assert "approved" in main_text(page)
    screenshot(page, "account")


def test_a_reader_signs_in_with_the_emailed_code(
    page: Page, mailbox: Mailbox, reader: Account
) -> None:
    page.goto("/magic")
    ask = page.locator("section", has=page.get_by_role("heading", name="Get a sign-in link"))
    ask.get_by_label("Email").fill(reader.email)
    ask.get_by_role("button", name="Email me a link and code").click()
    page.wait_for_url(re.compile(r"sent=1"))

    code = mailbox.code(to=reader.email)
    enter = page.locator("section", has=page.get_by_role("heading", name="Enter the 6-digit code"))
    enter.get_by_label("Email").fill(reader.email)
    enter.get_by_label("Code").fill(code)
    enter.get_by_role("button", name="Sign in with the code").click()
    page.wait_for_url(re.compile(r"/account"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("#account-email")).to_have_text(reader.email)
