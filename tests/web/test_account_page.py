"""/account: what the reader holds and until when, billing through Stripe, subscription
requests, the private feed, and name and password changes, through the API's services."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from app.config import get_settings
from tests.support.app import DEFAULT_PASSWORD
from tests.support.stripe_events import WEBHOOK_SECRET, event, sign, subscription
from tests.support.stripe_fixtures import stripe_emulator  # noqa: F401  (fixture)
from tests.web.forms import csrf_of, sign_in, submit

ADMIN_USERS = "/api/v1/admin/users"
FEED_URL = re.compile(r'value="http://folio\.test(/feeds/private/[A-Za-z0-9_-]+\.xml)"')


@pytest.fixture
def page(client, reader):  # noqa: ANN001, ANN201
    """The client signed in as `reader` through the login form."""
    sign_in(client, reader.email, DEFAULT_PASSWORD)
    return client


def post(client, action: str, data: dict[str, str] | None = None):  # noqa: ANN001, ANN201
    return submit(client, "/account", action, data or {})


def test_an_anonymous_visitor_is_sent_to_log_in_and_back(client):
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/account"
    login = client.get("/account")  # as a browser follows it
    assert login.status_code == 200 and 'name="next" value="/account"' in login.text


def test_an_account_form_posted_without_a_session_returns_to_the_account_after_login(client):
    posted = submit(client, "/login", "/account/feed-token", {})
    assert posted.status_code == 303
    assert posted.headers["location"] == "/login?next=/account"
    assert client.get("/admin/members", follow_redirects=False).headers["location"] == (
        "/login?next=/admin/members"
    )


def test_a_reader_without_entitlements_is_offered_the_tiers(page, catalog):
    html = page.get("/account").text
    assert "You read the free and registered reports" in html
    assert "Subscribe to Threat Pro: 29.00 USD a month" in html
    assert "Subscribe to Threat Pro: 290.00 USD a year" in html
    assert '<option value="all-access">All Access</option>' in html


def test_entitlements_show_their_source_and_end(page, client, admin, reader, catalog):
    grant = {"tier": catalog.tier, "expires_at": "2030-03-01T00:00:00Z"}
    assert (
        client.post(
            f"{ADMIN_USERS}/{reader.id}/comps", headers=admin.headers, json=grant
        ).status_code
        == 201
    )
    licence = {"name": "Example Org", "tier": catalog.all_access_tier}
    licence["email_domains"] = ["example.org"]
    assert (
        client.post("/api/v1/admin/organizations", headers=admin.headers, json=licence).status_code
        == 201
    )

    html = page.get("/account").text
    rows = re.findall(r"<tr>\s*(<td>.*?)</tr>", html, re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, re.S) for row in rows]
    assert ["Threat Monitor", "Threat Pro", "Complimentary", "until 1 March 2030"] in cells
    assert [
        "Cyber Lab, Threat Monitor",
        "All Access",
        "Licence: Example Org",
        "no end date",
    ] in cells


@pytest.mark.parametrize(
    ("cancel", "shown"),
    [(True, "ends on 1 April 2031 (will not renew)"), (False, "until 1 April 2031")],
)
def test_a_stripe_subscription_says_whether_it_renews(
    page, client, reader, catalog, monkeypatch, cancel, shown
):
    monkeypatch.setenv("FOLIO_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    get_settings.cache_clear()
    end = int(datetime(2031, 4, 1, 12, tzinfo=UTC).timestamp())
    body = event(
        "customer.subscription.updated",
        subscription(user_id=reader.id, period_end=end, cancel_at_period_end=cancel),
    )
    delivered = client.post(
        "/webhooks/stripe",
        content=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign(body)},
    )
    assert delivered.status_code == 200, delivered.text
    html = page.get("/account").text
    assert "Subscription" in html and shown in html
    if not cancel:
        assert "will not renew" not in html


def test_billing_without_stripe_shows_the_503_message_on_the_page(page, catalog):
    for action, data in (
        ("/account/billing-portal", {}),
        ("/account/checkout", {"tier": catalog.tier, "interval": "month"}),
    ):
        response = post(page, action, data)
        assert response.status_code == 503, action
        assert "Billing is not configured on this server" in response.text
        assert "<h1>Your account</h1>" in response.text


def test_subscribing_and_managing_billing_go_to_stripe(
    page,
    client,
    admin,
    catalog,
    stripe_emulator,  # noqa: F811  (the fixture imported above)
    monkeypatch,
):
    stripe_emulator.reset()
    monkeypatch.setenv("FOLIO_STRIPE_SECRET_KEY", "sk_test_folio")
    monkeypatch.setenv("FOLIO_STRIPE_API_BASE", stripe_emulator.base_url)
    get_settings.cache_clear()
    price = stripe_emulator.client("sk_test_folio").v1.prices.create(
        params={
            "unit_amount": 2900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Threat Pro"},
        }
    )
    prices = [{"interval": "month", "amount": 2900, "currency": "usd", "stripe_price_id": price.id}]
    client.patch(
        f"/api/v1/admin/tiers/{catalog.tier}", headers=admin.headers, json={"prices": prices}
    )

    checkout = post(page, "/account/checkout", {"tier": catalog.tier, "interval": "month"})
    assert checkout.status_code == 303, checkout.text
    assert checkout.headers["location"].startswith("http")
    portal = post(page, "/account/billing-portal")
    assert portal.status_code == 303, portal.text
    assert portal.headers["location"].startswith("http")

    unpriced = post(page, "/account/checkout", {"tier": catalog.tier, "interval": "year"})
    assert unpriced.status_code == 422 and "has no yearly price" in unpriced.text


@pytest.mark.parametrize(
    ("value", "notice"),
    [
        ("success", "Your subscription starts as soon as Stripe"),
        ("canceled", "nothing was charged"),
    ],
)
def test_the_return_from_checkout_shows_a_notice(page, value, notice):
    assert notice in page.get(f"/account?checkout={value}").text


def test_requesting_a_subscription_lists_the_request(page, catalog):
    html = page.get("/account").text
    assert 'id="request-subscription"' in html

    sent = post(
        page,
        "/account/subscription-request",
        {"organization": "Harbour Desk", "message": "Ten seats.", "tier": catalog.tier},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/account?done=requested#request-subscription"
    html = page.get(sent.headers["location"].split("#")[0]).text
    assert "Your request was sent" in html
    row = re.search(r"<td>[^<]*</td><td>Harbour Desk</td><td>(.*?)</td><td>(.*?)</td>", html)
    assert row and row.groups() == ("Threat Pro", "pending")


def test_a_request_without_an_organization_is_a_422_on_the_form(page):
    refused = post(page, "/account/subscription-request", {"organization": " ", "message": "Hi"})
    assert refused.status_code == 422
    assert 'id="request-organization-error"' in refused.text
    assert ">Hi</textarea>" in refused.text


def test_a_fourth_pending_request_is_refused_with_the_service_message(page):
    for n in range(3):
        assert (
            post(page, "/account/subscription-request", {"organization": f"Org {n}"}).status_code
            == 303
        )
    refused = post(page, "/account/subscription-request", {"organization": "Org 4"})
    assert refused.status_code == 409 and "You already have 3 pending requests" in refused.text
    assert 'value="Org 4"' in refused.text


def test_the_private_feed_url_is_shown_once_rotated_and_deleted(page, client):
    created = post(page, "/account/feed-token")
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    first = FEED_URL.search(created.text).group(1)
    assert client.get(first).status_code == 200

    later = page.get("/account").text
    assert "You have a private feed URL" in later and first not in later

    rotated = post(page, "/account/feed-token")
    second = FEED_URL.search(rotated.text).group(1)
    assert second != first
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200

    deleted = post(page, "/account/feed-token/delete")
    assert deleted.status_code == 303
    assert "no longer works" in page.get("/account?done=feed-deleted").text
    assert client.get(second).status_code == 404
    assert "You have a private feed URL" not in page.get("/account").text


def test_changing_the_name(page):
    saved = post(page, "/account/profile", {"name": "Ada Lovelace"})
    assert saved.status_code == 303 and saved.headers["location"] == "/account?done=saved"
    assert "Ada Lovelace · " in page.get("/account").text


def test_a_wrong_current_password_changes_nothing(page, reader):
    refused = post(
        page,
        "/account/profile",
        {"name": "Other", "current_password": "not it at all", "password": "a fine new passphrase"},
    )
    assert refused.status_code == 403 and "The current password is not correct." in refused.text
    html = page.get("/account").text
    assert "Other · " not in html and reader.email in html


def test_a_new_password_signs_every_session_out(page, client, reader):
    access = client.cookies["folio_session"]
    new = "a fine new passphrase"
    token = csrf_of(page.get("/account").text)
    changed = page.post(
        "/account/profile",
        data={
            "name": "",
            "current_password": DEFAULT_PASSWORD,
            "password": new,
            "csrftoken": token,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/login?done=password-changed&next=/account"
    assert "Password changed" in page.get(changed.headers["location"]).text
    assert page.get("/account", follow_redirects=False).status_code == 303

    page.cookies.set("folio_session", access)
    assert page.get("/account", follow_redirects=False).status_code == 303
    sign_in(page, reader.email, new)
    assert page.get("/account").status_code == 200
