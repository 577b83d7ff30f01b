"""Helpers of the reader page tests: a browser signed in by cookie, a comp, a report's parts."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from app.deps import SESSION_COOKIE
from tests.support.app import Account, bearer_for


def sign_in(client: TestClient, account: Account) -> None:
    """The cookie a page sign-in sets: the same access token the API issues."""
    token = bearer_for(account.id)["Authorization"].removeprefix("Bearer ")
    client.cookies.set(SESSION_COOKIE, token)


def grant_comp(client: TestClient, admin: Account, reader: Account, tier: str) -> None:
    response = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": tier}
    )
    assert response.status_code == 201, response.text


class _HeadReader(HTMLParser):
    """Every <meta> content, the <title> and every JSON-LD script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.title = ""
        self.json_ld: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta":
            key = values.get("property") or values.get("name")
            if key:
                self.meta.setdefault(key, []).append(values.get("content") or "")
        elif tag == "title" or (tag == "script" and values.get("type") == "application/ld+json"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.json_ld.append(data)


def page_head(html: str) -> tuple[str, dict[str, list[str]], list[dict]]:
    """(title, meta contents by name or property, parsed JSON-LD objects) of a page."""
    reader = _HeadReader()
    reader.feed(html)
    return reader.title, reader.meta, [json.loads(text) for text in reader.json_ld]


def section(html: str, css_class: str) -> str:
    """The inner HTML of the first element with exactly this class, up to the first closing
    tag of its kind (enough for elements that do not nest their own kind, as <aside>)."""
    match = re.search(rf'<(\w+) class="{css_class}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element of class {css_class}"
    return match.group(2)
