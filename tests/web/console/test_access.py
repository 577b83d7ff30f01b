"""Who may open the console: admins everything, editors reports only, others nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.deps import SESSION_COOKIE
from app.web.session import REFRESH_COOKIE
from tests.support.app import Account
from tests.web.forms import sign_in_browser


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get("/admin/members?q=ann", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/members%3Fq%3Dann"
    assert response.headers["cache-control"] == "no-store"


def test_a_signed_in_reader_gets_a_403_page_not_json(client: TestClient, reader: Account) -> None:
    sign_in_browser(client, reader.headers)
    for path in ("/admin", "/admin/members", "/admin/reports"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.headers["content-type"].startswith("text/html")
        assert "Not allowed" in response.text


def test_an_editor_sees_the_reports_pages_and_nothing_else(
    client: TestClient, editor: Account
) -> None:
    sign_in_browser(client, editor.headers)
    console = client.get("/admin")
    assert console.status_code == 200
    assert 'href="/admin/reports"' in console.text
    assert 'href="/admin/members"' not in console.text
    assert client.get("/admin/reports").status_code == 200
    assert client.get("/admin/reports/new").status_code == 200
    for path in ("/admin/members", "/admin/requests", "/admin/organizations", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_every_console_page_is_never_cached(client: TestClient, admin: Account) -> None:
    sign_in_browser(client, admin.headers)
    for path in (
        "/admin",
        "/admin/members",
        "/admin/requests",
        "/admin/organizations",
        "/admin/reports",
        "/admin/reports/new",
        "/admin/catalog",
        "/admin/stats",
        "/admin/audit",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path


def test_a_console_post_without_the_csrf_token_is_refused(
    client: TestClient, admin: Account, reader: Account
) -> None:
    sign_in_browser(client, admin.headers)
    client.get(f"/admin/members/{reader.id}")  # the CSRF cookie is set; the form field is not sent
    response = client.post(
        f"/admin/members/{reader.id}", data={"role": "admin"}, follow_redirects=False
    )
    assert response.status_code == 403
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert member["role"] == "reader"


def test_an_unknown_member_is_a_404_page(client: TestClient, admin: Account) -> None:
    sign_in_browser(client, admin.headers)
    response = client.get("/admin/members/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "User not found" in response.text


def test_a_console_page_keeps_the_session_it_refreshed(client: TestClient, admin: Account) -> None:
    pair = client.post(
        "/api/v1/auth/login", data={"username": admin.email, "password": admin.password}
    ).json()
    client.cookies.set(REFRESH_COOKIE, pair["refresh_token"])  # the access cookie has expired
    first = client.get("/admin/members")
    assert first.status_code == 200
    set_cookies = first.headers.get_list("set-cookie")
    assert any(c.startswith(f"{SESSION_COOKIE}=") for c in set_cookies)
    assert any(c.startswith(f"{REFRESH_COOKIE}=") for c in set_cookies)
    # The rotated refresh token is the one the browser now holds: the next page still works
    # (replaying the old one would end the session).
    assert client.get("/admin/members").status_code == 200
