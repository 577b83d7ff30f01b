"""Every admin operation in the OpenAPI document: anonymous 401, reader 403, both documented.

Walking the document (not a hand-kept list) means a new admin route cannot be left open.
"""

from __future__ import annotations

import re

ADMIN_PREFIX = "/api/v1/admin"


def admin_operations(client) -> list[tuple[str, str, dict]]:  # noqa: ANN001
    document = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        if path.startswith(ADMIN_PREFIX)
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def concrete(path: str, operation: dict) -> str:
    """The path with each parameter filled by a value of its declared type."""
    types = {
        p["name"]: p.get("schema", {}).get("type")
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }
    return re.sub(r"\{(\w+)\}", lambda m: "1" if types[m[1]] == "integer" else "x", path)


def test_the_walk_sees_every_admin_area(client):
    paths = {path for _, path, _ in admin_operations(client)}
    for area in ("users", "organizations", "subscription-requests", "audit", "comps", "reports"):
        assert any(p.startswith(f"{ADMIN_PREFIX}/{area}") for p in paths), area
    assert len(admin_operations(client)) >= 25


def test_every_admin_operation_documents_401_and_403(client):
    for method, path, operation in admin_operations(client):
        assert {"401", "403"} <= operation["responses"].keys(), f"{method} {path}"


def test_an_anonymous_caller_gets_401_on_every_admin_operation(client):
    for method, path, operation in admin_operations(client):
        response = client.request(method, concrete(path, operation), json={})
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        assert response.json()["detail"]


def test_a_reader_gets_403_on_every_admin_operation(client, reader):
    for method, path, operation in admin_operations(client):
        response = client.request(
            method, concrete(path, operation), headers=reader.headers, json={}
        )
        assert response.status_code == 403, f"{method} {path}: {response.status_code}"


def test_an_editor_gets_403_on_every_admin_operation_but_the_reports(client, editor):
    """SPEC §5: editors have the report endpoints only (collections belong to admins)."""
    for method, path, operation in admin_operations(client):
        if path.startswith(f"{ADMIN_PREFIX}/reports"):
            continue
        response = client.request(
            method, concrete(path, operation), headers=editor.headers, json={}
        )
        assert response.status_code == 403, f"{method} {path}: {response.status_code}"


def test_an_editor_still_writes_reports(client, editor, catalog):
    body = {"title": "By an editor", "collection": catalog.collection}
    response = client.post("/api/v1/admin/reports", headers=editor.headers, json=body)
    assert response.status_code == 201, response.text
