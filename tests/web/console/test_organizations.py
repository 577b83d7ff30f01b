"""Organizations in the console: created, edited and deleted through the API's service."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.app import Account, Catalog
from tests.web.forms import sign_in_browser, submit


def _organizations(client: TestClient, admin: Account) -> list[dict]:
    return client.get("/api/v1/admin/organizations", headers=admin.headers).json()["items"]


def test_an_organization_with_a_bad_cidr_is_refused_on_the_form_and_not_stored(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    response = submit(
        client,
        "/admin/organizations",
        "/admin/organizations",
        {"name": "Acme", "tier": catalog.tier, "ip_ranges": "192.0.2.0/24\n300.1.2.0/24"},
    )
    assert response.status_code == 422
    assert "not an IPv4 or IPv6 range in CIDR notation" in response.text
    assert "300.1.2.0/24" in response.text  # the form keeps what was typed
    assert _organizations(client, admin) == []


def test_an_organization_is_created_edited_and_deleted(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    created = submit(
        client,
        "/admin/organizations",
        "/admin/organizations",
        {
            "name": "Acme University",
            "tier": catalog.tier,
            "email_domains": "acme.edu\n@Library.Acme.edu",
            "ip_ranges": "192.0.2.0/24",
            "expires_at": "2099-06-30",
        },
    )
    assert created.status_code == 303
    [org] = _organizations(client, admin)
    assert org["email_domains"] == ["acme.edu", "library.acme.edu"]
    assert org["ip_ranges"] == ["192.0.2.0/24"]
    page = f"/admin/organizations/{org['id']}"
    assert created.headers["location"].startswith(page)

    edited = submit(
        client,
        page,
        page,
        {"name": "Acme U", "tier": catalog.all_access_tier, "email_domains": "acme.edu"},
    )
    assert edited.status_code == 303
    [org] = _organizations(client, admin)
    assert (org["name"], org["tier"], org["ip_ranges"], org["expires_at"]) == (
        "Acme U",
        catalog.all_access_tier,
        [],
        None,
    )

    deleted = submit(client, page, f"{page}/delete", {})
    assert deleted.status_code == 303
    assert _organizations(client, admin) == []
    actions = [
        e["action"]
        for e in client.get(
            "/api/v1/admin/audit", headers=admin.headers, params={"action": "organization."}
        ).json()["items"]
    ]
    assert actions == ["organization.delete", "organization.update", "organization.create"]
