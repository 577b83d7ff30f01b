"""Folio works offline and installs as a package: /docs needs no CDN, a wheel carries its files."""

from __future__ import annotations

import re

import pytest

ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_same_origin(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert "://" not in response.text  # no CDN, no font service: works on an air-gapped server
    assets = ASSET_URL.findall(response.text)
    assert assets
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        served = client.get(url)
        assert served.status_code == 200, url
        expected = next(kind for suffix, kind in ASSET_TYPES.items() if url.endswith(suffix))
        assert expected in served.headers["content-type"], (url, served.headers["content-type"])


def test_swagger_authorize_still_uses_the_password_login(client):
    page = client.get("/docs").text
    assert "/openapi.json" in page and "oauth2RedirectUrl" in page
    assert client.get("/docs/oauth2-redirect").status_code == 200
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"
