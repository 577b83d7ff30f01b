"""Admin routes for members as CSV: export (streamed) and import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse

from app.deps import AdminDep, SessionDep, SettingsDep, TransactionRoute, require_admin
from app.downloads import csv_download
from app.errors import BadRequest, Conflict, Unprocessable, error_responses
from app.members import importing
from app.members.export import member_csv
from app.members.importing import ImportReport
from app.members.schemas import MemberStatus
from app.members.search import tier_id_of

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: members"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)


@router.get(
    "/users.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(Unprocessable)},
)
def export_members(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=320)] = None,
    status: MemberStatus | None = None,
    tier: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
) -> StreamingResponse:
    """Every member the same filters as GET /users would list, newest first."""
    if tier is not None:
        tier_id_of(session, tier)  # an unknown tier is a 422 before the first byte
    return csv_download(member_csv(q, status, tier), "members.csv")


@router.post(
    "/users/import",
    response_model=ImportReport,
    responses=error_responses(BadRequest, Conflict, Unprocessable),
)
def import_members(
    file: Annotated[UploadFile, File(description="CSV: email, name, tier, expires_at, note")],
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminDep,
    dry_run: Annotated[bool, Form()] = False,
) -> ImportReport:
    """Bad rows and duplicates are reported with their line numbers; the rest are
    imported and invited by email to choose a password. `dry_run` writes nothing."""
    return importing.import_members(session, settings, file.file.read(), admin, dry_run=dry_run)
