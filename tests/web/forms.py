"""Form posts as a browser makes them: GET the page (its CSRF cookie and hidden token), post."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrftoken" value="([^"]+)">')


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "no csrftoken field on the page"
    return found.group(1)


def submit(client: TestClient, page: str, action: str, data: dict[str, str]) -> Response:
    """GETs `page`, then posts `data` with its CSRF token to `action`; no redirect followed."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(
        action, data=data | {"csrftoken": csrf_of(shown.text)}, follow_redirects=False
    )


def sign_in(client: TestClient, email: str, password: str) -> None:
    """Logs the client in through the login form."""
    response = submit(client, "/login", "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
