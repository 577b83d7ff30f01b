"""Every link Folio sends lands on a page: each email, delivered over real SMTP, and each URL
of a paywall object, opened as a browser would (redirects followed) answers a 200 page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support.app import DEFAULT_PASSWORD, Account, Catalog, create_user
from tests.support.smtp import Mailbox

BASE = "http://folio.test"
URL = re.compile(r"https?://[^\s\"'<>]+")
PASSWORD = "paper lantern orbit 42"


def urls_in(message) -> set[str]:  # noqa: ANN001
    """Every http(s) URL of the text part and of the HTML part (attributes and text)."""
    found: set[str] = set()
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        assert part is not None, f"no text/{kind} part in {message['Subject']!r}"
        found |= {html.unescape(url).rstrip(".,;:)") for url in URL.findall(part.get_content())}
    return found


def assert_lands(client: TestClient, url: str) -> None:
    assert url.startswith(BASE), f"{url} is not on FOLIO_BASE_URL"
    path = url.removeprefix(BASE) or "/"
    response = client.get(path)  # redirects followed, as a browser does
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    assert response.headers["content-type"].startswith("text/html"), url
    assert response.url.host == "folio.test", f"{url} left the site"


def newest_email(mailbox: Mailbox, address: str, subject_word: str = ""):  # noqa: ANN201
    mailbox.deliver()
    received = [m for m in mailbox.to(address) if subject_word.lower() in m["Subject"].lower()]
    assert received, f"no email reached {address}"
    return received[-1]


def send_verify(client: TestClient, **_: object) -> tuple[str, str]:
    body = {"email": "new@example.org", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 202
    return "new@example.org", "/verify?token="


def send_account_exists(client: TestClient, reader: Account, **_: object) -> tuple[str, str]:
    body = {"email": reader.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 202
    return reader.email, "/reset?token="


def send_reset(client: TestClient, reader: Account, **_: object) -> tuple[str, str]:
    response = client.post("/api/v1/auth/password-reset", json={"email": reader.email})
    assert response.status_code == 202
    return reader.email, "/reset?token="


def send_magic(client: TestClient, reader: Account, **_: object) -> tuple[str, str]:
    response = client.post("/api/v1/auth/magic-link", json={"email": reader.email})
    assert response.status_code == 202
    return reader.email, "/magic?token="


def send_password_changed(client: TestClient, reader: Account, **_: object) -> tuple[str, str]:
    body = {"current_password": DEFAULT_PASSWORD, "password": PASSWORD}
    assert client.patch("/api/v1/me", headers=reader.headers, json=body).status_code == 200
    return reader.email, "/reset"


def send_invite(
    client: TestClient, admin: Account, catalog: Catalog, **_: object
) -> tuple[str, str]:
    csv = f"email,name,tier\ninvited@example.org,Ivy,{catalog.tier}\n"
    response = client.post(
        "/api/v1/admin/users/import",
        headers=admin.headers,
        files={"file": ("members.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 200 and response.json()["created"] == 1, response.text
    return "invited@example.org", "/reset?token="


def _request(client: TestClient, reader: Account, catalog: Catalog) -> int:
    body = {"organization": "Harbour", "message": "Ten seats.", "tier": catalog.tier}
    response = client.post("/api/v1/subscription-requests", headers=reader.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def send_request_approved(
    client: TestClient, reader: Account, admin: Account, catalog: Catalog, **_: object
) -> tuple[str, str]:
    request_id = _request(client, reader, catalog)
    decided = client.post(
        f"/api/v1/admin/subscription-requests/{request_id}/approve", headers=admin.headers, json={}
    )
    assert decided.status_code == 200, decided.text
    return reader.email, "/account"


def send_request_declined(
    client: TestClient, reader: Account, admin: Account, catalog: Catalog, **_: object
) -> tuple[str, str]:
    request_id = _request(client, reader, catalog)
    decided = client.post(
        f"/api/v1/admin/subscription-requests/{request_id}/decline",
        headers=admin.headers,
        json={"reason": "No seats left this year."},
    )
    assert decided.status_code == 200, decided.text
    return reader.email, "/account"


EMAILS: dict[str, Callable[..., tuple[str, str]]] = {
    "verify": send_verify,
    "account_exists": send_account_exists,
    "reset": send_reset,
    "magic": send_magic,
    "password_changed": send_password_changed,
    "invite": send_invite,
    "request_approved": send_request_approved,
    "request_declined": send_request_declined,
}


@pytest.mark.parametrize("kind", EMAILS)
def test_every_link_in_every_email_lands_on_a_page(kind, client, mailbox, reader, admin, catalog):
    address, expected = EMAILS[kind](client=client, reader=reader, admin=admin, catalog=catalog)
    message = newest_email(mailbox, address)
    urls = urls_in(message)
    assert any(url.removeprefix(BASE).startswith(expected) for url in urls), (kind, urls)
    for url in sorted(urls):
        assert_lands(client, url)


def test_the_emailed_links_still_work_after_their_pages_were_opened(client, mailbox):
    """Opening each page (as a scanner would) spent nothing: the button still works."""
    create_user("reader@example.org")
    client.post("/api/v1/auth/magic-link", json={"email": "reader@example.org"})
    [magic] = [u for u in urls_in(newest_email(mailbox, "reader@example.org")) if "token=" in u]
    assert_lands(client, magic)
    token = magic.split("token=", 1)[1]
    confirmed = client.post("/api/v1/auth/magic-link/confirm", json={"token": token})
    assert confirmed.status_code == 200


def test_every_url_of_a_paywall_lands_on_a_page(client, publish):
    report = publish(slug="sahel-drones", body="The lead.\n\n<!-- paywall -->\n\nThe rest.")
    paywall = client.get(f"/api/v1/reports/{report['slug']}").json()["paywall"]
    assert paywall is not None
    for field in ("login_url", "register_url", "request_url"):
        assert_lands(client, paywall[field])
    # The request link arrives signed out: it goes by the login page and back to the form.
    login = client.get(paywall["request_url"].removeprefix(BASE))
    assert 'name="next" value="/account"' in login.text
