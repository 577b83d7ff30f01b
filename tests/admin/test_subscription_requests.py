"""The subscription-requests queue: staff approve (comp or licence) or decline, once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.admin.conftest import audit_entries, reads_full, request_subscription

QUEUE = "/api/v1/admin/subscription-requests"


def test_the_queue_lists_pending_requests_with_their_requester(client, admin, reader, catalog):
    first = request_subscription(client, reader.headers, tier=catalog.tier)
    second = request_subscription(client, reader.headers, org="Second desk")
    client.post(f"{QUEUE}/{first}/decline", headers=admin.headers, json={"reason": "No."})

    pending = client.get(QUEUE, headers=admin.headers, params={"status": "pending"}).json()
    assert [item["id"] for item in pending["items"]] == [second]
    [item] = pending["items"]
    assert item["requester"] == {"id": reader.id, "email": reader.email, "name": "reader"}
    assert item["organization"] == "Second desk" and item["status"] == "pending"
    assert item["message"] == "Ten seats for the newsroom."

    everything = client.get(QUEUE, headers=admin.headers).json()["items"]
    assert [i["id"] for i in everything] == [second, first]
    assert everything[1]["status"] == "declined" and everything[1]["tier"] == catalog.tier


def test_the_queue_pages_by_cursor_and_refuses_a_bad_one(client, admin, reader, make_account):
    other = make_account("other@example.org")
    ids = [
        request_subscription(client, h, org=f"Org {n}")
        for n, h in enumerate([reader.headers] * 3 + [other.headers] * 2)
    ]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(QUEUE, headers=admin.headers, params=params).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted(ids, reverse=True)
    for bad in ("garbage", "eyJiZWZvcmUiOiAieCJ9", "e30"):
        response = client.get(QUEUE, headers=admin.headers, params={"cursor": bad})
        assert response.status_code == 400 and response.json()["detail"] == "Invalid cursor"
    assert client.get(QUEUE, headers=admin.headers, params={"status": "lost"}).status_code == 422


def test_approving_grants_a_comp_and_the_requester_reads_the_full_text(
    client, admin, reader, catalog, paid_report, mailbox
):
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)
    assert not reads_full(client, paid_report, reader.headers)

    response = client.post(f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={})
    assert response.status_code == 200, response.text
    decided = response.json()
    assert decided["status"] == "approved" and decided["decided_by"] == admin.id
    assert decided["decided_at"] is not None

    assert reads_full(client, paid_report, reader.headers)
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert me["subscription_requests"][0]["status"] == "approved"
    assert [(e["source"], e["tier"]) for e in me["entitlements"]] == [("comp", catalog.tier)]

    text = mailbox.last_text(reader.email)
    assert "was approved" in text and "Threat Pro" in text
    assert "\nhttp://folio.test/account\n" in text + "\n"


def test_approval_names_a_tier_and_an_expiry_with_an_offset(client, admin, reader, catalog):
    request_id = request_subscription(client, reader.headers)
    no_tier = client.post(f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={})
    assert no_tier.status_code == 422 and "tier" in no_tier.json()["detail"]
    unknown = client.post(
        f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={"tier": "gold"}
    )
    assert unknown.status_code == 422 and "gold" in unknown.json()["detail"]
    past = client.post(
        f"{QUEUE}/{request_id}/approve",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": "2001-01-01T00:00:00"},
    )
    assert past.status_code == 422
    assert client.get(f"{QUEUE}/{request_id}", headers=admin.headers).json()["status"] == "pending"

    approved = client.post(
        f"{QUEUE}/{request_id}/approve",
        headers=admin.headers,
        json={"tier": catalog.all_access_tier, "expires_at": "2999-06-01T12:00:00+02:00"},
    )
    assert approved.status_code == 200, approved.text
    [entitlement, *_] = client.get("/api/v1/me", headers=reader.headers).json()["entitlements"]
    assert entitlement["tier"] == catalog.all_access_tier
    assert entitlement["until"].startswith("2999-06-01T10:00:00")


def test_approving_as_an_organization_creates_a_licence(
    client, admin, make_account, catalog, paid_report, mailbox
):
    librarian = make_account("librarian@uni.example.edu")
    colleague = make_account("dean@law.uni.example.edu")
    request_id = request_subscription(client, librarian.headers, org="Example University")

    response = client.post(
        f"{QUEUE}/{request_id}/approve",
        headers=admin.headers,
        json={
            "tier": catalog.tier,
            "as": "organization",
            "email_domains": ["uni.example.edu"],
            "ip_ranges": ["192.0.2.0/24"],
        },
    )
    assert response.status_code == 200, response.text
    org_id = response.json()["organization_id"]
    org = client.get(f"/api/v1/admin/organizations/{org_id}", headers=admin.headers).json()
    assert org["name"] == "Example University" and org["tier"] == catalog.tier
    assert org["email_domains"] == ["uni.example.edu"] and org["ip_ranges"] == ["192.0.2.0/24"]

    assert reads_full(client, paid_report, librarian.headers)
    assert reads_full(client, paid_report, colleague.headers)
    [entitlement] = client.get("/api/v1/me", headers=colleague.headers).json()["entitlements"]
    assert entitlement["source"] == "organization"
    assert entitlement["organization"] == "Example University"
    assert "uni.example.edu" in mailbox.last_text(librarian.email)


def test_a_licence_needs_a_domain_or_a_range_and_a_bad_range_is_named(
    client, admin, reader, catalog
):
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)
    bare = client.post(
        f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={"as": "organization"}
    )
    assert bare.status_code == 422
    bad = client.post(
        f"{QUEUE}/{request_id}/approve",
        headers=admin.headers,
        json={"as": "organization", "ip_ranges": ["10.0.0.0/8", "10.300.0.0/16"]},
    )
    assert bad.status_code == 422 and "10.300.0.0/16" in str(bad.json()["detail"])
    assert client.get("/api/v1/admin/organizations", headers=admin.headers).json()["items"] == []
    assert client.get(f"{QUEUE}/{request_id}", headers=admin.headers).json()["status"] == "pending"


def test_declining_emails_the_reason_and_grants_nothing(
    client, admin, reader, catalog, paid_report, mailbox
):
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)
    response = client.post(
        f"{QUEUE}/{request_id}/decline",
        headers=admin.headers,
        json={"reason": "We could not verify the newsroom."},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "declined"
    assert response.json()["decision_reason"] == "We could not verify the newsroom."
    assert not reads_full(client, paid_report, reader.headers)
    text = mailbox.last_text(reader.email)
    assert "unable to approve" in text and "We could not verify the newsroom." in text
    again = client.post(
        f"{QUEUE}/{request_id}/decline", headers=admin.headers, json={"reason": "Twice."}
    )
    assert again.status_code == 409, again.text


def test_a_decided_request_cannot_be_decided_again(client, admin, reader, catalog, mailbox):
    approved = request_subscription(client, reader.headers, tier=catalog.tier)
    declined = request_subscription(client, reader.headers, tier=catalog.tier)
    assert client.post(f"{QUEUE}/{approved}/approve", headers=admin.headers, json={}).is_success
    assert client.post(
        f"{QUEUE}/{declined}/decline", headers=admin.headers, json={"reason": "No."}
    ).is_success
    mailbox.deliver()
    mails_before = len(mailbox.messages)
    comps_before = len(audit_entries("access.grant"))
    for request_id in (approved, declined):
        again = client.post(f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={})
        assert again.status_code == 409, again.text
        again = client.post(
            f"{QUEUE}/{request_id}/decline", headers=admin.headers, json={"reason": "x"}
        )
        assert again.status_code == 409
    mailbox.deliver()
    assert len(mailbox.messages) == mails_before
    assert len(audit_entries("access.grant")) == comps_before
    assert client.post(f"{QUEUE}/99999/approve", headers=admin.headers, json={}).status_code == 404


def test_concurrent_approvals_grant_once(client, admin, reader, catalog):
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)

    def approve(_: int) -> int:
        return client.post(
            f"{QUEUE}/{request_id}/approve", headers=admin.headers, json={}
        ).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(approve, range(4)))
    assert codes == [200, 409, 409, 409]
    assert len(audit_entries("access.grant")) == 1
    subscriptions = client.get("/api/v1/me", headers=reader.headers).json()["subscriptions"]
    assert len(subscriptions) == 1


def test_each_decision_is_audited_with_its_grant(client, admin, reader, catalog):
    approved = request_subscription(client, reader.headers, tier=catalog.tier)
    declined = request_subscription(client, reader.headers)
    client.post(f"{QUEUE}/{approved}/approve", headers=admin.headers, json={"note": "press"})
    client.post(f"{QUEUE}/{declined}/decline", headers=admin.headers, json={"reason": "dup"})

    [approval] = audit_entries("subscription_request.approved")
    assert (
        approval.actor == f"user:{admin.id}"
        and approval.target == f"subscription_request:{approved}"
    )
    assert approval.before == {"status": "pending"}
    assert approval.after["as"] == "comp" and approval.after["tier"] == catalog.tier
    [grant] = audit_entries("access.grant")
    assert (
        grant.target == f"user:{reader.id}"
        and grant.after["subscription"] == approval.after["comp"]
    )
    [refusal] = audit_entries("subscription_request.declined")
    assert refusal.after == {"status": "declined", "reason": "dup"}
