"""The members pages: search, CSV export, comps, role, erasure, all through the API's services."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.support.app import Account, Catalog
from tests.web.forms import sign_in_browser, submit


def test_members_are_found_by_an_email_fragment_and_filtered_by_status(
    client: TestClient,
    admin: Account,
    catalog: Catalog,
    make_account: Callable[..., Account],
) -> None:
    ann = make_account("ann@uni.example")
    make_account("bob@uni.example")
    make_account("anna@corp.example")
    sign_in_browser(client, admin.headers)
    found = client.get("/admin/members", params={"q": "ann"})
    assert found.status_code == 200
    assert "ann@uni.example" in found.text and "anna@corp.example" in found.text
    assert "bob@uni.example" not in found.text

    client.post(
        f"/api/v1/admin/users/{ann.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    comps = client.get("/admin/members", params={"status": "comp"})
    assert "ann@uni.example" in comps.text
    assert "anna@corp.example" not in comps.text and "bob@uni.example" not in comps.text


def test_the_member_list_pages_with_the_api_cursor(
    client: TestClient, admin: Account, make_account: Callable[..., Account]
) -> None:
    for n in range(52):
        make_account(f"m{n:02d}@many.example")
    sign_in_browser(client, admin.headers)
    first = client.get("/admin/members", params={"q": "m"})
    assert "m51@many.example" in first.text and "m01@many.example" not in first.text
    link = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(link.replace("&amp;", "&"))
    assert "m01@many.example" in second.text and "m00@many.example" in second.text
    assert "m51@many.example" not in second.text


def test_the_csv_export_streams_the_filtered_members(
    client: TestClient, admin: Account, make_account: Callable[..., Account]
) -> None:
    make_account("carol@uni.example")
    make_account("dave@corp.example")
    sign_in_browser(client, admin.headers)
    response = client.get("/admin/members.csv", params={"q": "carol"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["email"] for row in rows] == ["carol@uni.example"]


def test_the_csv_export_is_for_admins_only(client: TestClient, editor: Account) -> None:
    sign_in_browser(client, editor.headers)
    assert client.get("/admin/members.csv").status_code == 403


def test_a_comp_granted_on_the_member_page_is_in_the_api_and_the_audit_log(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    page = f"/admin/members/{reader.id}"
    response = submit(
        client,
        page,
        f"{page}/comps",
        {"tier": catalog.tier, "expires_at": "2099-01-31", "note": "Press pass"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}?done=comp-granted"
    assert "Comp granted." in client.get(response.headers["location"]).text

    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    [comp] = member["subscriptions"]
    assert (comp["source"], comp["tier"], comp["note"]) == ("comp", catalog.tier, "Press pass")
    assert comp["current_period_end"].startswith("2099-01-31")
    audit = client.get(
        "/api/v1/admin/audit", headers=admin.headers, params={"action": "access.grant"}
    ).json()["items"]
    assert audit[0]["actor"] == f"user:{admin.id}"
    assert audit[0]["target"] == f"user:{reader.id}"
    assert "access.grant" in client.get("/admin/audit").text


def test_a_refused_comp_shows_the_message_on_the_member_page(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    page = f"/admin/members/{reader.id}"
    response = submit(
        client, page, f"{page}/comps", {"tier": catalog.tier, "expires_at": "2001-01-01"}
    )
    assert response.status_code == 422
    assert "expires_at must be in the future" in response.text
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert member["subscriptions"] == []


def test_a_comp_is_revoked_from_the_member_page(
    client: TestClient, admin: Account, reader: Account, catalog: Catalog
) -> None:
    granted = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    ).json()
    sign_in_browser(client, admin.headers)
    page = f"/admin/members/{reader.id}"
    assert f"Revoke comp {granted['id']}" in client.get(page).text
    response = submit(client, page, f"{page}/comps/{granted['id']}/revoke", {})
    assert response.status_code == 303
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert member["subscriptions"][0]["status"] == "canceled"
    assert member["status"] == "free"
    assert f"Revoke comp {granted['id']}" not in client.get(page).text


def test_role_and_disabled_are_changed_like_the_api_patch(
    client: TestClient, admin: Account, reader: Account
) -> None:
    sign_in_browser(client, admin.headers)
    page = f"/admin/members/{reader.id}"
    response = submit(client, page, page, {"name": "Rea", "role": "editor", "disabled": "on"})
    assert response.status_code == 303
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert (member["name"], member["role"], member["disabled"]) == ("Rea", "editor", True)
    assert member["recent_audit"][0]["action"] == "user.update"


def test_the_last_admin_cannot_demote_themselves(client: TestClient, admin: Account) -> None:
    sign_in_browser(client, admin.headers)
    page = f"/admin/members/{admin.id}"
    response = submit(client, page, page, {"name": "admin", "role": "reader"})
    assert response.status_code == 409
    assert "last admin" in response.text


def test_erasure_needs_the_confirmation_box(
    client: TestClient, admin: Account, reader: Account
) -> None:
    sign_in_browser(client, admin.headers)
    confirm = f"/admin/members/{reader.id}/erase"
    unticked = submit(client, confirm, confirm, {})
    assert unticked.status_code == 422
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert member["erased_at"] is None

    ticked = submit(client, confirm, confirm, {"confirm": "yes"})
    assert ticked.status_code == 303
    member = client.get(f"/api/v1/admin/users/{reader.id}", headers=admin.headers).json()
    assert member["erased_at"] is not None
    assert reader.email not in client.get("/admin/members").text
