"""The sign-in pages: forms over the account services, email links spent only by a button."""

from __future__ import annotations

import pytest

from tests.support.app import DEFAULT_PASSWORD, create_user
from tests.web.forms import submit

PASSWORD = "paper lantern orbit 42"


def signed_in_email(client) -> str | None:  # noqa: ANN001
    """The address /account shows, or None when it sends the visitor to log in."""
    page = client.get("/account", follow_redirects=False)
    if page.status_code != 200:
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/account"
        return None
    return page.text.split('<span id="account-email">', 1)[1].split("</span>", 1)[0]


def page_login(client, email: str, password: str = DEFAULT_PASSWORD, next: str = "/"):  # noqa: ANN001, ANN201
    return submit(client, "/login", "/login", {"email": email, "password": password, "next": next})


def register(client, email: str, password: str = PASSWORD, **extra: str):  # noqa: ANN001, ANN201
    return submit(client, "/register", "/register", {"email": email, "password": password} | extra)


def test_registering_sends_a_link_whose_page_confirms_only_with_the_button(client, mailbox):
    response = register(client, "New@Example.org", name="Ada")
    assert response.status_code == 303 and response.headers["location"] == "/register?sent=1"
    assert "Check your inbox" in client.get("/register?sent=1").text
    token = mailbox.token("verify", to="new@example.org")

    for _ in range(2):  # a mail scanner's fetch, then the reader's
        page = client.get(f"/verify?token={token}")
        assert page.status_code == 200 and "Confirm your email address" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert f'name="token" value="{token}"' in page.text
        assert "folio_session" not in page.headers.get("set-cookie", "")
    assert signed_in_email(client) is None

    confirmed = submit(client, f"/verify?token={token}", "/verify", {"token": token})
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == "/account?done=verified"
    page = client.get(confirmed.headers["location"])
    assert page.status_code == 200 and "new@example.org" in page.text
    assert "Your email address is confirmed" in page.text
    # The registration's password is the account's now.
    client.cookies.clear()
    assert page_login(client, "new@example.org", PASSWORD).status_code == 303


def test_a_spent_verification_link_is_a_400_page_pointing_to_sign_in_by_email(client, mailbox):
    register(client, "once@example.org")
    token = mailbox.token("verify", to="once@example.org")
    assert submit(client, f"/verify?token={token}", "/verify", {"token": token}).status_code == 303
    client.cookies.clear()

    again = submit(client, f"/verify?token={token}", "/verify", {"token": token})
    assert again.status_code == 400
    assert "This link is invalid or has expired." in again.text
    assert 'href="/magic"' in again.text
    assert signed_in_email(client) is None


def test_verify_without_a_token_explains_the_emailed_link(client):
    page = client.get("/verify")
    assert page.status_code == 200
    assert "Open the link in the email" in page.text and 'name="token"' not in page.text


def test_registering_a_taken_address_shows_the_same_page(client, mailbox):
    create_user("taken@example.org")
    fresh = register(client, "fresh@example.org")
    taken = register(client, "taken@example.org")
    assert (fresh.status_code, fresh.headers["location"]) == (
        taken.status_code,
        taken.headers["location"],
    )
    mailbox.deliver()
    assert "already have an account" in mailbox.last_text("taken@example.org")


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("short@example.org", "too short", "register-password-error", "at least 10 characters"),
        ("same@example.org", "same@example.org", "register-password-error", "not be your email"),
        ("not an address", PASSWORD, "register-email-error", "email address"),
    ],
)
def test_registration_errors_are_shown_by_field_with_a_422(client, email, password, field, message):
    response = register(client, email, password, name="Kept Name")
    assert response.status_code == 422
    assert f'id="{field}"' in response.text and message in response.text
    assert 'value="Kept Name"' in response.text


def test_a_wrong_password_and_an_unknown_address_read_alike(client):
    create_user("reader@example.org")
    wrong = page_login(client, "reader@example.org", "not the password at all")
    unknown = page_login(client, "nobody@example.org", "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password." in response.text
        assert "folio_session" not in response.headers.get("set-cookie", "")
    assert signed_in_email(client) is None


def test_signing_in_sets_the_session_and_goes_to_next(client):
    create_user("reader@example.org")
    response = page_login(client, "reader@example.org", next="/account")
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookies = response.headers.get_list("set-cookie")
    for name in ("folio_session=", "folio_refresh="):
        [cookie] = [c for c in cookies if c.startswith(name)]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert signed_in_email(client) == "reader@example.org"


@pytest.mark.parametrize(
    "next",
    ["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:x", "/\t/x"],
)
def test_next_never_leaves_the_site(client, next):
    create_user("reader@example.org")
    page = client.get("/login", params={"next": next})
    assert 'name="next" value="/"' in page.text
    response = page_login(client, "reader@example.org", next=next)
    assert response.headers["location"] == "/"


def test_the_login_page_links_the_other_ways_in(client):
    page = client.get("/login?next=/reports/x")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    for href in ('href="/register?next=/reports/x"', 'href="/reset"', 'href="/magic"'):
        assert href in page.text
    assert 'name="next" value="/reports/x"' in page.text


def test_too_many_wrong_passwords_give_a_429_page_with_retry_after(client_with):
    client = client_with(login_failures_per_account=2)
    create_user("reader@example.org")
    for _ in range(2):
        assert page_login(client, "reader@example.org", "wrong password here").status_code == 401
    refused = page_login(client, "reader@example.org")  # even the right password
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many failed sign-in attempts" in refused.text


def test_an_unverified_account_is_a_403_with_ways_to_confirm(client):
    create_user("pending@example.org", verified=False)
    response = page_login(client, "pending@example.org")
    assert response.status_code == 403
    assert "Verify your email address first" in response.text
    assert 'href="/magic"' in response.text and "/register?email=pending%40example.org" in (
        response.text
    )


def test_a_disabled_account_is_a_403(client):
    create_user("gone@example.org", disabled=True)
    response = page_login(client, "gone@example.org")
    assert response.status_code == 403 and "This account is disabled" in response.text


def test_signing_in_with_the_emailed_code(client, mailbox):
    create_user("reader@example.org")
    asked = submit(client, "/magic", "/magic", {"email": "reader@example.org"})
    assert asked.status_code == 303 and asked.headers["location"] == "/magic?sent=1"
    sent = client.get("/magic?sent=1")
    assert "we have sent it a sign-in link and code" in sent.text and 'name="code"' in sent.text
    code = mailbox.code(to="reader@example.org")

    wrong = "000000" if code != "000000" else "111111"
    refused = submit(client, "/magic", "/magic", {"email": "reader@example.org", "code": wrong})
    assert refused.status_code == 401 and "Invalid or expired" in refused.text

    signed = submit(client, "/magic", "/magic", {"email": "reader@example.org", "code": code})
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    assert signed_in_email(client) == "reader@example.org"


def test_a_code_that_is_not_six_digits_is_a_422_on_the_form(client):
    response = submit(client, "/magic", "/magic", {"email": "reader@example.org", "code": "12ab"})
    assert response.status_code == 422 and "6 digits" in response.text


def test_a_magic_link_page_opened_twice_still_signs_in_with_its_button(client, mailbox):
    create_user("reader@example.org")
    submit(client, "/magic", "/magic", {"email": "reader@example.org"})
    token = mailbox.token("magic", to="reader@example.org")
    for _ in range(2):
        page = client.get(f"/magic?token={token}")
        assert page.status_code == 200 and ">Sign in</button>" in page.text
        assert f'name="token" value="{token}"' in page.text
    assert signed_in_email(client) is None

    signed = submit(client, f"/magic?token={token}", "/magic", {"token": token})
    assert signed.status_code == 303 and signed_in_email(client) == "reader@example.org"


def test_a_forged_magic_link_is_refused_on_the_page(client):
    response = submit(client, "/magic?token=forged", "/magic", {"token": "forged"})
    assert response.status_code == 401 and "Invalid or expired" in response.text
    assert signed_in_email(client) is None


def test_resetting_a_password_through_the_pages(client, mailbox):
    create_user("reader@example.org")
    asked = submit(client, "/reset", "/reset", {"email": "reader@example.org"})
    assert asked.status_code == 303 and asked.headers["location"] == "/reset?sent=1"
    assert "If an account uses that address" in client.get("/reset?sent=1").text
    token = mailbox.token("reset", to="reader@example.org")

    for _ in range(2):  # the GET spends nothing
        page = client.get(f"/reset?token={token}")
        assert page.status_code == 200 and "Choose a new password" in page.text
    short = submit(client, f"/reset?token={token}", "/reset", {"token": token, "password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text

    new = "a brand new passphrase"
    done = submit(client, f"/reset?token={token}", "/reset", {"token": token, "password": new})
    assert done.status_code == 303 and done.headers["location"] == "/login?done=password-changed"
    assert "Password changed" in client.get("/login?done=password-changed").text
    assert signed_in_email(client) is None  # no sign-in follows

    again = submit(client, f"/reset?token={token}", "/reset", {"token": token, "password": new})
    assert again.status_code == 400 and "invalid or has expired" in again.text
    assert page_login(client, "reader@example.org").status_code == 401
    assert page_login(client, "reader@example.org", new).status_code == 303


def test_a_reset_for_an_unknown_address_looks_the_same(client, mailbox):
    asked = submit(client, "/reset", "/reset", {"email": "nobody@example.org"})
    assert asked.status_code == 303 and asked.headers["location"] == "/reset?sent=1"
    mailbox.deliver()
    assert mailbox.to("nobody@example.org") == []


def test_logging_out_ends_the_session_everywhere(client):
    create_user("reader@example.org")
    page_login(client, "reader@example.org")
    access = client.cookies["folio_session"]
    assert client.get("/api/v1/me").status_code == 200  # the cookie reads the API

    out = submit(client, "/account", "/logout", {})
    assert out.status_code == 303 and out.headers["location"] == "/"
    cleared = out.headers.get_list("set-cookie")
    assert any(c.startswith('folio_session=""') or "folio_session=;" in c for c in cleared)
    assert signed_in_email(client) is None

    client.cookies.set("folio_session", access)
    assert client.get("/api/v1/me").status_code == 401
    bearer = {"Authorization": f"Bearer {access}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
