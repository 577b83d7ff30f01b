"""SPEC §5: a datetime without an offset means UTC, an offset is converted to UTC, and every
datetime in a response carries its offset; calendar-edge instants are a 422, never a 500."""

from __future__ import annotations

import re
import typing
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import SQLModel

from app.db import session_scope
from app.instants import Instant
from app.main import create_app
from app.models import AuditEntry, Report, Subscription

ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
HAS_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _counts() -> tuple[int, int, int]:
    with session_scope(write=False) as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Report, Subscription, AuditEntry)
        )


def _instants(value: object) -> list[str]:
    """Every string in a JSON document that looks like a datetime."""
    if isinstance(value, str):
        return [value] if ISO_INSTANT.match(value) else []
    if isinstance(value, dict):
        return [found for item in value.values() for found in _instants(item)]
    if isinstance(value, list):
        return [found for item in value for found in _instants(item)]
    return []


def test_a_naive_comp_expiry_means_utc(client, admin, reader, catalog):
    response = client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": "2040-01-01T12:00:00"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"] == "2040-01-01T12:00:00Z"
    until = [
        e["until"] for e in client.get("/api/v1/me", headers=reader.headers).json()["entitlements"]
    ]
    assert until == ["2040-01-01T12:00:00Z"]


def test_an_offset_is_converted_to_utc(client, admin, reader, catalog):
    response = client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": "2040-01-01T12:00:00+02:00"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"] == "2040-01-01T10:00:00Z"


def test_a_naive_published_at_reads_the_same_on_create_and_on_read(client, admin, catalog):
    created = client.post(
        "/api/v1/admin/reports",
        headers=admin.headers,
        json={
            "slug": "naive",
            "title": "Naive",
            "collection": catalog.collection,
            "access_level": "public",
            "status": "published",
            "published_at": "2026-01-01T08:00:00",
            "free_after": "2026-02-01T08:00:00-01:00",
        },
    )
    assert created.status_code == 201, created.text
    read = client.get("/api/v1/admin/reports/naive", headers=admin.headers).json()
    public = client.get("/api/v1/reports/naive").json()
    assert created.json()["published_at"] == "2026-01-01T08:00:00Z"
    assert read["published_at"] == public["published_at"] == "2026-01-01T08:00:00Z"
    assert created.json()["free_after"] == read["free_after"] == "2026-02-01T09:00:00Z"


def test_every_datetime_in_every_response_carries_its_offset(client, admin, reader, catalog):
    naive = "2026-01-01T08:00:00"
    client.post(
        "/api/v1/admin/reports",
        headers=admin.headers,
        json={
            "slug": "r1",
            "title": "R1",
            "collection": catalog.collection,
            "status": "published",
            "published_at": naive,
            "free_after": "2099-01-01T00:00:00",
        },
    )
    client.patch("/api/v1/admin/reports/r1", headers=admin.headers, json={"published_at": naive})
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": "2040-01-01T00:00:00"},
    )
    client.post(
        "/api/v1/subscription-requests",
        headers=reader.headers,
        json={"organization": "Org", "message": "m", "tier": catalog.tier},
    )
    bodies = [
        client.post(
            "/api/v1/admin/reports",
            headers=admin.headers,
            json={
                "slug": "r2",
                "title": "R2",
                "collection": catalog.collection,
                "status": "scheduled",
                "published_at": "2090-05-05T05:05:05",
            },
        ).json(),
        client.patch(
            "/api/v1/admin/reports/r2", headers=admin.headers, json={"free_after": naive}
        ).json(),
        client.get("/api/v1/admin/reports", headers=admin.headers).json(),
        client.get("/api/v1/admin/reports/r1", headers=admin.headers).json(),
        client.get("/api/v1/reports", headers=reader.headers).json(),
        client.get("/api/v1/reports/r1", headers=reader.headers).json(),
        client.get("/api/v1/search", params={"q": "R1"}).json(),
        client.get("/api/v1/me", headers=reader.headers).json(),
    ]
    instants = [found for body in bodies for found in _instants(body)]
    assert len(instants) >= 15
    assert [i for i in instants if not HAS_OFFSET.search(i)] == []


def _bare_datetimes(annotation: object) -> bool:
    """True when a field's type holds a datetime that is not the one Instant type."""
    if annotation is datetime:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        if annotation == Instant:
            return False
        return _bare_datetimes(typing.get_args(annotation)[0])
    return any(_bare_datetimes(arg) for arg in typing.get_args(annotation))


def _api_models() -> list[type[BaseModel]]:
    create_app()  # imports every route module and so every schema
    seen: list[type[BaseModel]] = []
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack.extend(model.__subclasses__())
        table = issubclass(model, SQLModel) and getattr(model, "__table__", None) is not None
        if model.__module__.startswith("app.") and not table and model not in seen:
            seen.append(model)
    return seen


def test_every_api_shape_uses_the_one_instant_type():
    models = _api_models()
    assert len(models) > 20
    offenders = [
        f"{model.__module__}.{model.__qualname__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if field.annotation is not None
        and _bare_datetimes(field.annotation)
        and Instant.__metadata__[0] not in field.metadata  # type: ignore[attr-defined]
    ]
    assert offenders == []


EDGE_INSTANTS = [
    "9999-12-31T23:59:59-05:00",  # past year 9999 once in UTC
    "0001-01-01T00:00:00+05:00",  # before year 1 once in UTC
    "10000-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T00:00:00+24:00",
]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/comps", "expires_at"),
        ("post", "/reports", "published_at"),
        ("post", "/reports", "free_after"),
        ("patch", "/reports/existing", "published_at"),
        ("patch", "/reports/existing", "free_after"),
    ],
)
def test_an_instant_beyond_the_calendar_is_a_422(
    client, admin, reader, catalog, publish, method, path, field
):
    publish(slug="existing")
    before = _counts()
    if path == "/comps":
        url, body = f"/api/v1/admin/users/{reader.id}/comps", {"tier": catalog.tier}
    else:
        url = f"/api/v1/admin{path}"
        body = {"title": "t", "collection": catalog.collection} if method == "post" else {}
    for instant in EDGE_INSTANTS:
        response = getattr(client, method)(url, headers=admin.headers, json=body | {field: instant})
        assert response.status_code == 422, (instant, response.text)
        assert field in str(response.json()["detail"]), instant
    assert _counts() == before


def test_the_last_instant_of_the_calendar_is_stored_and_read_back(
    client, admin, reader, catalog, publish
):
    last = "9999-12-31T23:59:59.999999Z"
    report = publish(slug="edge", access_level="public", free_after=last)
    assert report["free_after"] == last
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": "9999-12-31T23:59:59+00:00"},
    )
    assert comp.status_code == 201, comp.text
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert {e["until"] for e in me["entitlements"]} == {"9999-12-31T23:59:59Z"}
    assert client.get("/api/v1/reports/edge").json()["slug"] == "edge"


offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    instant=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
    offset=st.none() | offsets,
)
def test_any_comp_expiry_is_stored_in_utc_or_refused(
    client, admin, reader, catalog, instant, offset
):
    sent = instant.replace(tzinfo=offset)
    response = client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "expires_at": sent.isoformat()},
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert response.json()["detail"]
        return
    expected = sent if offset is not None else sent.replace(tzinfo=UTC)
    returned = response.json()["expires_at"]
    assert returned.endswith("Z")
    assert datetime.fromisoformat(returned) == expected
