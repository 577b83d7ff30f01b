"""Driving page forms in tests: the CSRF token a page carries, and a signed-in browser."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from app.deps import SESSION_COOKIE

_CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _CSRF_INPUT.search(html)
    assert found, "the page has no form carrying a csrftoken"
    return found.group(1)


def submit(client: TestClient, page: str, action: str, data: dict[str, Any]) -> Response:
    """GET `page` (which sets the CSRF cookie), then POST its token with `data` to `action`."""
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    return client.post(
        action, data={**data, "csrftoken": csrf_token(shown.text)}, follow_redirects=False
    )


def sign_in_browser(client: TestClient, headers: dict[str, str]) -> None:
    """Carries an access token the API issued in the pages' session cookie, as /login would."""
    token = headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)
