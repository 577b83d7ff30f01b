"""The pages' cookie session: refreshed unseen, a replay ends it, CSRF on forms, API writes
by bearer only, nothing personal cached."""

from __future__ import annotations

import pytest

from tests.support.app import DEFAULT_PASSWORD, create_user
from tests.web.forms import csrf_of, submit


@pytest.fixture
def signed_in(client):  # noqa: ANN001, ANN201
    create_user("reader@example.org")
    response = submit(
        client, "/login", "/login", {"email": "reader@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 303, response.text
    return client


def cookies_set(response) -> dict[str, str]:  # noqa: ANN001
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name] = rest.split(";", 1)[0]
    return found


def test_an_expired_access_cookie_is_refreshed_unseen(signed_in):
    client = signed_in
    old_refresh = client.cookies["folio_refresh"]
    del client.cookies["folio_session"]  # what the browser does when its max-age ends

    page = client.get("/account", follow_redirects=False)
    assert page.status_code == 200 and "reader@example.org" in page.text
    fresh = cookies_set(page)
    assert fresh["folio_session"] and fresh["folio_refresh"] not in ("", old_refresh)
    # The rotated pair works on, and the next page needs no refresh.
    again = client.get("/account", follow_redirects=False)
    assert again.status_code == 200 and "folio_refresh" not in cookies_set(again)


def test_a_refresh_after_a_form_post_reaches_the_browser(signed_in):
    """A POST that rotates the session answers with a redirect: the new cookies ride on it."""
    client = signed_in
    token = csrf_of(client.get("/account").text)
    del client.cookies["folio_session"]
    response = client.post(
        "/account/profile", data={"name": "Renamed", "csrftoken": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/account?done=saved"
    assert {"folio_session", "folio_refresh"} <= cookies_set(response).keys()
    assert "Renamed" in client.get("/account").text


def test_a_replayed_refresh_cookie_ends_the_whole_session(signed_in):
    client = signed_in
    stolen = client.cookies["folio_refresh"]
    del client.cookies["folio_session"]
    assert client.get("/account", follow_redirects=False).status_code == 200  # rotated
    current = client.cookies["folio_refresh"]
    assert current != stolen

    client.cookies.clear()
    client.cookies.set("folio_refresh", stolen)  # the thief's copy, already spent
    replay = client.get("/account", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"] == "/login?next=/account"

    client.cookies.clear()
    client.cookies.set("folio_refresh", current)  # the reader's own, now revoked too
    assert client.get("/account", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("action", ["/login", "/logout", "/account/feed-token", "/register"])
def test_a_form_post_without_its_csrf_token_is_refused(signed_in, action):
    client = signed_in
    response = client.post(action, data={"email": "x@example.org"}, follow_redirects=False)
    assert response.status_code == 403 and "This form has expired" in response.text
    assert client.get("/account", follow_redirects=False).status_code == 200  # still signed in


def test_a_form_post_with_another_token_is_refused(signed_in):
    client = signed_in
    response = client.post(
        "/account/feed-token", data={"csrftoken": "forged.token"}, follow_redirects=False
    )
    assert response.status_code == 403


def test_the_session_cookie_alone_cannot_write_through_the_api(signed_in):
    client = signed_in
    access = client.cookies["folio_session"]
    assert client.post("/api/v1/me/feed-token").status_code == 401
    bearer = {"Authorization": f"Bearer {access}"}
    assert client.post("/api/v1/me/feed-token", headers=bearer).status_code == 201


@pytest.mark.parametrize(
    "path", ["/login", "/register", "/verify?token=x", "/reset", "/reset?token=x", "/magic"]
)
def test_pages_with_forms_are_never_stored(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.headers["content-type"].startswith("text/html")


def test_the_account_page_is_never_stored(signed_in):
    assert signed_in.get("/account").headers["cache-control"] == "no-store"
