"""Driving page forms in tests as a browser does: GET the page (its CSRF cookie and hidden
token), then post; and signing a test client in."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from app.deps import SESSION_COOKIE

_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF_INPUT.search(html)
    assert found, "the page has no form carrying a csrftoken"
    return found.group(1)


csrf_token = csrf_of


def submit(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Response:
    """GETs `page`, then posts `data` with its CSRF token to `action`; no redirect followed."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(
        action, data={**data, "csrftoken": csrf_of(shown.text)}, follow_redirects=False
    )


def sign_in(client: TestClient, email: str, password: str) -> None:
    """Logs the client in through the login form."""
    response = submit(client, "/login", "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text


def sign_in_browser(client: TestClient, headers: dict[str, str]) -> None:
    """Carries an access token the API issued in the pages' session cookie, as /login would."""
    token = headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)
