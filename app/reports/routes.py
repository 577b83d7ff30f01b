"""Reader endpoints: collections, tiers, reports, search and feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from app.access import Access, Anonymous, Viewer
from app.accounts.feed import viewer_for_feed_token
from app.accounts.routes import ThrottleDep
from app.config import Settings
from app.deps import (
    Credentials,
    CredentialsDep,
    SessionDep,
    SettingsDep,
    TransactionRoute,
    ViewerDep,
    run_in_transaction,
)
from app.errors import (
    BadRequest,
    FolioError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    error_responses,
)
from app.generation import Kept
from app.holdings_cache import NO_DATABASE, KeptAccess, NeedsDatabase, access_cache_of
from app.models import utcnow
from app.reports import feeds, reading, search, service
from app.reports.preview_cache import (
    ANONYMOUS_PREVIEW,
    PUBLIC_MAX_AGE,
    VARY,
    CachedPreview,
    Generation,
    PreviewCache,
    current_generation,
    load_network_index,
    preview_cache_of,
)
from app.reports.schemas import (
    CollectionPublic,
    ReportDetail,
    ReportPage,
    SearchResults,
    TierPublic,
)
from app.usage.recorder import record_read

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=TransactionRoute)
feeds_router = APIRouter(prefix="/feeds", tags=["feeds"], route_class=TransactionRoute)

Slug = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]
RSS_TYPE = "application/rss+xml; charset=utf-8"


def cache_privately(response: Response) -> None:
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = VARY


def cache_publicly(response: Response, etag: str | None = None) -> None:
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response.headers["Vary"] = VARY
    if etag:
        response.headers["ETag"] = etag


@router.get("/collections", response_model=list[CollectionPublic])
def list_collections(session: SessionDep) -> list[CollectionPublic]:
    rows = service.all_collections(session)
    return [CollectionPublic(slug=c.slug, name=c.name, description=c.description) for c in rows]


@router.get("/tiers", response_model=list[TierPublic])
def list_tiers(session: SessionDep) -> list[TierPublic]:
    return service.active_tiers(session)


@router.get(
    "/reports",
    response_model=ReportPage,
    responses=error_responses(BadRequest, NotFound, Unauthorized),
)
def list_reports(
    session: SessionDep,
    viewer: ViewerDep,
    response: Response,
    collection: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ReportPage:
    items, next_cursor = service.list_reports(
        session, viewer, utcnow(), collection=collection, tag=tag, limit=limit, cursor=cursor
    )
    if viewer.is_staff:
        cache_privately(response)
    else:
        cache_publicly(response)
    return ReportPage(items=items, next_cursor=next_cursor)


@router.get(
    "/reports/{slug}",
    response_model=ReportDetail,
    responses=error_responses(NotFound, Unauthorized),
)
async def read_report(
    slug: Slug,
    request: Request,
    session: SessionDep,
    credentials: CredentialsDep,
    settings: SettingsDep,
) -> Response:
    """The body is ReportDetail's JSON, built by app.reports.reading (orjson, no response
    validation); a cached anonymous preview is usually answered before this route
    (app.reports.preview_fast_path), and here when that layer stepped aside."""
    now = utcnow()
    anonymous = not credentials.token
    user_agent = request.headers.get("user-agent")
    previews = preview_cache_of(request.app.state)
    generation = current_generation()  # before the report is read: see preview_cache
    access_kept = KeptAccess.now(access_cache_of(request.app.state))
    if anonymous:
        # The same bytes for every anonymous viewer off licensed networks (preview_cache):
        # one os.stat to know they are current; the licence check (this worker's network
        # index, then what the address holds, kept under the access generation) so a
        # campus reader still gets the full text.
        cached = previews.get(slug, generation, now)
        viewer = Anonymous(client_ip=credentials.client_ip)
        if cached is not None and not await maybe_licensed(
            previews, generation, viewer, session, access_kept, now
        ):
            record_read(cached.report_id, ANONYMOUS_PREVIEW, viewer, user_agent)
            return public_preview(cached, request)
    # The hottest route: the viewer and what they hold (this worker's copy while the
    # access generation stands, R-A1), the report (its copy while the content generation
    # stands). All kept: answered here, no connection, no hop. Else the same read with the
    # database, and its commit, in one threadpool hop and one transaction.
    kept = reading.kept_content(previews, generation)
    try:
        read, viewer = read_as(NO_DATABASE, slug, credentials, settings, now, kept, access_kept)
    except NeedsDatabase:
        read, viewer = await run_in_transaction(
            session, read_as, session, slug, credentials, settings, now, kept, access_kept
        )
    record_read(read.report_id, read.decision, viewer, user_agent)
    # Only an anonymous preview is the same for everyone; the rest is private.
    if anonymous and read.decision.access is Access.PREVIEW:
        entry = previews.put(slug, read.body, generation, read.changes_at, read.report_id)
        return public_preview(entry, request)
    response = Response(content=read.body, media_type="application/json")
    cache_privately(response)
    return response


def kept_private_read(
    state: Any,
    slug: str,
    credentials: Credentials,
    settings: Settings,
    now: datetime,
    user_agent: str | None,
) -> bytes | None:
    """A signed-in read answered from this worker's kept answers alone (no database), as
    read_report would answer it (and recorded as a read as it would), for
    app.reports.preview_fast_path; None when anything is not kept or the answer is not a
    200 (the route then reads, records and answers)."""
    kept = reading.kept_content(preview_cache_of(state), current_generation())
    access = KeptAccess.now(access_cache_of(state))
    try:
        read, viewer = read_as(NO_DATABASE, slug, credentials, settings, now, kept, access)
    except (NeedsDatabase, FolioError):
        return None
    record_read(read.report_id, read.decision, viewer, user_agent)
    return read.body


def read_as(
    session: Session,
    slug: str,
    credentials: Credentials,
    settings: Settings,
    now: datetime,
    kept: Kept,
    access: KeptAccess,
) -> tuple[reading.ReportRead, Viewer]:
    if credentials.token:
        viewer: Viewer = access.member_for_token(
            session, credentials.token, settings, credentials.client_ip
        )
    else:
        viewer = Anonymous(client_ip=credentials.client_ip)
    read = reading.read_report_json(session, slug, viewer, settings, now, kept, access.entitlements)
    return read, viewer


async def maybe_licensed(
    previews: PreviewCache,
    generation: Generation,
    viewer: Anonymous,
    session: Session,
    access: KeptAccess,
    now: datetime,
) -> bool:
    """Whether a licence may give this anonymous reader the full text: no when no
    organization's range holds the address (this worker's index, current with the
    generation: microseconds); else whether the address holds a live licence (the same
    holdings the read decides with, kept under the access generation)."""
    if viewer.client_ip is None:
        return False
    index = previews.networks(generation)
    if index is None:
        index = await run_in_transaction(session, load_network_index, session)
        previews.keep_networks(generation, index)
    if not index.may_hold(viewer.client_ip):
        return False
    try:
        held = access.entitlements(NO_DATABASE, viewer, now)
    except NeedsDatabase:
        held = await run_in_transaction(session, access.entitlements, session, viewer, now)
    return any(entitlement.live(now) for entitlement in held)


def public_preview(cached: CachedPreview, request: Request) -> Response:
    """The same status and headers app.reports.preview_fast_path sends."""
    if cached.etag in request.headers.get("if-none-match", ""):
        response = Response(status_code=304)
    else:
        response = Response(content=cached.body, media_type="application/json")
    cache_publicly(response, cached.etag)
    return response


@router.get(
    "/search",
    response_model=SearchResults,
    responses=error_responses(NotFound, Unauthorized, TooManyRequests, ServiceUnavailable),
)
def search_reports(
    session: SessionDep,
    viewer: ViewerDep,
    throttle: ThrottleDep,
    request: Request,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    collection: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchResults:
    throttle.count_search(search.search_client_key(viewer))
    # What the viewer holds decides each snippet: this worker's copy while the access
    # generation stands, as for a read (R-A1), so a search is one round trip fewer.
    kept = KeptAccess.now(access_cache_of(request.app.state))
    hits = search.search_reports(
        session,
        viewer,
        utcnow(),
        q,
        collection=collection,
        limit=limit,
        entitlements_of=kept.entitlements,
    )
    cache_privately(response)
    return SearchResults(items=hits)


@feeds_router.get(
    "/rss.xml", response_class=Response, responses={200: {"content": {"application/rss+xml": {}}}}
)
def site_feed(session: SessionDep, settings: SettingsDep) -> Response:
    body = feeds.public_feed(session, settings, utcnow())
    response = Response(content=body, media_type=RSS_TYPE)
    cache_publicly(response)
    return response


@feeds_router.get(
    "/private/{token}.xml",
    response_class=Response,
    responses={200: {"content": {"application/rss+xml": {}}}, **error_responses(NotFound)},
)
def private_feed(
    token: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    now = utcnow()
    viewer = viewer_for_feed_token(session, token)
    body, views = feeds.private_feed(session, viewer, token, settings, now)
    # Each item delivered in full is a read (COUNTER counts content delivered); a preview
    # item is a listing the reader did not ask to open, not a turnaway.
    user_agent = request.headers.get("user-agent")
    for view in views:
        if view.decision.full:
            record_read(view.report.id, view.decision, viewer, user_agent, now)  # type: ignore[arg-type]
    response = Response(content=body, media_type=RSS_TYPE)
    cache_privately(response)
    return response


@feeds_router.get(
    "/{collection}.xml",
    response_class=Response,
    responses={200: {"content": {"application/rss+xml": {}}}, **error_responses(NotFound)},
)
def collection_feed(
    collection: Annotated[str, Path(min_length=1, max_length=200)],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    found = service.collection_by_slug(session, collection)
    body = feeds.public_feed(session, settings, utcnow(), found)
    response = Response(content=body, media_type=RSS_TYPE)
    cache_publicly(response)
    return response
