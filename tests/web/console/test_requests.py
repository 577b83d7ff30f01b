"""The subscription-requests queue: approve and decline through the API's services."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.app import Account, Catalog
from tests.web.forms import sign_in_browser, submit


def _request(client: TestClient, reader: Account, tier: str | None = None) -> int:
    body = {"organization": "Acme University", "message": "For our library"}
    if tier:
        body["tier"] = tier
    response = client.post("/api/v1/subscription-requests", headers=reader.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_request_approved_in_the_queue_gives_the_reader_the_entitlement(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    request_id = _request(client, reader, catalog.tier)
    sign_in_browser(client, admin.headers)
    queue = client.get("/admin/requests")
    assert "Acme University" in queue.text and f"Approve request {request_id}" in queue.text
    response = submit(
        client,
        "/admin/requests",
        f"/admin/requests/{request_id}/approve",
        {
            "tier": catalog.tier,
            "as": "comp",
            "expires_at": "",
            "email_domains": "",
            "ip_ranges": "",
        },
    )
    assert response.status_code == 303
    assert "Request approved." in client.get(response.headers["location"]).text

    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert {(e["collection"], e["source"]) for e in me["entitlements"]} == {
        (catalog.collection, "comp")
    }
    decided = client.get(
        f"/api/v1/admin/subscription-requests/{request_id}", headers=admin.headers
    ).json()
    assert (decided["status"], decided["decided_by"]) == ("approved", admin.id)


def test_approving_as_an_organization_with_a_bad_range_changes_nothing(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    request_id = _request(client, reader, catalog.tier)
    sign_in_browser(client, admin.headers)
    response = submit(
        client,
        "/admin/requests",
        f"/admin/requests/{request_id}/approve",
        {"tier": catalog.tier, "as": "organization", "ip_ranges": "10.0.0.0/33"},
    )
    assert response.status_code == 422
    assert "not an IPv4 or IPv6 range" in response.text
    pending = client.get(
        f"/api/v1/admin/subscription-requests/{request_id}", headers=admin.headers
    ).json()
    assert pending["status"] == "pending"


def test_a_declined_request_shows_its_decision_and_cannot_be_decided_again(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    request_id = _request(client, reader)
    sign_in_browser(client, admin.headers)
    declined = submit(
        client,
        "/admin/requests",
        f"/admin/requests/{request_id}/decline",
        {"reason": "We do not license to departments."},
    )
    assert declined.status_code == 303
    shown = client.get("/admin/requests", params={"status": "declined"})
    assert "We do not license to departments." in shown.text
    assert f"Approve request {request_id}" not in shown.text
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert me["entitlements"] == []

    again = submit(
        client,
        "/admin/requests?status=declined",
        f"/admin/requests/{request_id}/approve",
        {"tier": catalog.tier, "as": "comp"},
    )
    assert again.status_code == 409
    assert "This request was already declined." in again.text
    assert client.get("/api/v1/me", headers=reader.headers).json()["entitlements"] == []
