"""Schemathesis over the OpenAPI document: generated requests never get a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.main import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
FUZZ = settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@FUZZ
def test_no_server_error_anonymous(case, catalog):
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_no_server_error_as_admin(case, catalog, admin):
    case.call_and_validate(headers=admin.headers, checks=[not_a_server_error])
