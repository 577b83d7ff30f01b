"""The report page: the API's read of a report (app.reports.reading: the same decision, text,
paywall and bytes as GET /api/v1/reports/{slug}) as HTML."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from starlette.responses import HTMLResponse

from app.access import Access, Anonymous
from app.deps import SessionDep, SettingsDep
from app.errors import FolioError, NotFound
from app.models import utcnow
from app.reports import reading
from app.reports.preview_cache import current_generation, preview_cache_of
from app.reports.schemas import Meter as MeterPublic
from app.reports.schemas import ReportDetail
from app.usage.recorder import record_read
from app.web.reader_common import error_page, long_date, reader_page, session_cookie_sent
from app.web.reader_meta import report_meta
from app.web.session import PageRoute, PageViewerDep

router = APIRouter(include_in_schema=False, route_class=PageRoute)

MAX_SLUG = 200
REQUEST_PATH = "/account#request-subscription"
# Why the reader sees the preview, in the reader's words (the paywall's `reason`).
REASONS = {
    "login_required": "You are not signed in.",
    "subscription_required": "Your account has no subscription that includes {collection}.",
    "meter_exhausted": "Your free reads for this period are used up.",
}


def meter_note(meter: MeterPublic | None) -> str:
    """The reader's free reads in words, when the meter decided the read."""
    if meter is None:
        return ""
    note = f"You have read {meter.used} of {meter.limit} free reports"
    if meter.resets_at is None:
        return note + "."
    return f"{note}; resets on {long_date(meter.resets_at)}."


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/reports/{slug}", response_class=HTMLResponse)
def report_page(
    slug: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: PageViewerDep,
) -> Response:
    now = utcnow()
    kept = reading.kept_content(preview_cache_of(request.app.state), current_generation())
    try:
        if len(slug) > MAX_SLUG:
            raise NotFound("Report not found")
        read = reading.read_report_json(session, slug, viewer, settings, now, kept)
    except FolioError as error:
        return error_page(request, viewer, error)
    record_read(read.report_id, read.decision, viewer, request.headers.get("user-agent"), now)
    detail = ReportDetail.model_validate_json(read.body)
    canonical = f"{settings.base_url}/reports/{detail.slug}"
    meta = report_meta(detail, read.preview_text, canonical, settings.site_name)
    reason = ""
    if detail.paywall is not None:
        reason = REASONS.get(detail.paywall.reason, "").format(collection=detail.collection.name)
    # Only an anonymous preview is the same for everyone (as the API caches it); full text,
    # or a page for someone who sent a session, is private.
    shared = (
        isinstance(viewer, Anonymous)
        and read.decision.access is Access.PREVIEW
        and not session_cookie_sent(request)
    )
    response = reader_page(
        request,
        "pages/report.html",
        viewer,
        caching="public" if shared else "private",
        report=detail,
        meta=meta,
        paywall_reason=reason,
        meter_note=meter_note(detail.meter),
        request_url=REQUEST_PATH,
    )
    if shared:
        etag = _etag(bytes(response.body))
        response.headers["ETag"] = etag
        if etag in request.headers.get("if-none-match", ""):
            kept = {name: response.headers[name] for name in ("cache-control", "etag", "vary")}
            return Response(status_code=304, headers=kept)
    return response
