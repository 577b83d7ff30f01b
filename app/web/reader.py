"""The reader's listing pages: home, a collection, a tag and search (the report page apart).

Lists come from the API's own listing service, as the public sees them: staff read drafts
in the console, not on the site's home page. Search runs the API's search service, with the
viewer, so snippets come from the text this viewer may read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from app.access import Anonymous
from app.accounts.routes import ThrottleDep
from app.deps import SessionDep
from app.errors import BadRequest, FolioError
from app.holdings_cache import KeptAccess, access_cache_of
from app.models import utcnow
from app.reports import directory, search, service
from app.web import reader_report
from app.web.reader_common import error_page, listing_caching, reader_page, with_error_headers
from app.web.session import PageRoute, PageViewerDep

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(reader_report.router)

HOME_PER_COLLECTION = 4
PAGE_SIZE = 20
SEARCH_LIMIT = 20
MAX_QUERY = 200  # the API's limit on q
PUBLIC = Anonymous()
Cursor = Annotated[str | None, Query(max_length=500)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, viewer: PageViewerDep) -> HTMLResponse:
    now = utcnow()
    sections = []
    for collection in directory.list_collections(session):
        items, _ = service.list_reports(
            session, PUBLIC, now, collection=collection.slug, limit=HOME_PER_COLLECTION
        )
        sections.append((collection, items))
    return reader_page(
        request,
        "pages/home.html",
        viewer,
        caching=listing_caching(viewer, request),
        sections=sections,
    )


@router.get("/collections/{slug}", response_class=HTMLResponse)
def collection_page(
    slug: str, request: Request, session: SessionDep, viewer: PageViewerDep, cursor: Cursor = None
) -> HTMLResponse:
    try:
        collection = service.collection_by_slug(session, slug)
        items, next_cursor = service.list_reports(
            session, PUBLIC, utcnow(), collection=slug, limit=PAGE_SIZE, cursor=cursor
        )
    except FolioError as error:
        return error_page(request, viewer, error)
    return reader_page(
        request,
        "pages/collection.html",
        viewer,
        caching=listing_caching(viewer, request),
        collection=collection,
        items=items,
        next_cursor=next_cursor,
        older_page=cursor is not None,
    )


@router.get("/tags/{tag:path}", response_class=HTMLResponse)
def tag_page(
    tag: str, request: Request, session: SessionDep, viewer: PageViewerDep, cursor: Cursor = None
) -> HTMLResponse:
    try:
        if len(tag) > 64:
            raise BadRequest("A tag has at most 64 characters")
        items, next_cursor = service.list_reports(
            session, PUBLIC, utcnow(), tag=tag, limit=PAGE_SIZE, cursor=cursor
        )
    except FolioError as error:
        return error_page(request, viewer, error)
    if not items and cursor is None:
        # A tag no live report carries is not a page (search engines should not index it).
        return reader_page(
            request, "pages/not_found.html", viewer, caching="private", status_code=404
        )
    return reader_page(
        request,
        "pages/tag.html",
        viewer,
        caching=listing_caching(viewer, request),
        tag=tag.lower(),
        items=items,
        next_cursor=next_cursor,
        older_page=cursor is not None,
    )


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    session: SessionDep,
    viewer: PageViewerDep,
    throttle: ThrottleDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    collection: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    query = q.strip()
    context = {
        "search_query": query,
        "collections": directory.list_collections(session),
        "selected_collection": collection,
        "hits": [],
    }
    if not query:
        return reader_page(request, "pages/search.html", viewer, caching="private", **context)
    try:
        if len(query) > MAX_QUERY:
            raise BadRequest(f"A search has at most {MAX_QUERY} characters")
        throttle.count_search(search.search_client_key(viewer))
        # What the viewer holds: this worker's copy under the access generation, as the API.
        kept = KeptAccess.now(access_cache_of(request.app.state))
        hits = search.search_reports(
            session,
            viewer,
            utcnow(),
            query,
            collection=collection or None,
            limit=SEARCH_LIMIT,
            entitlements_of=kept.entitlements,
        )
    except FolioError as error:
        response = reader_page(
            request,
            "pages/search.html",
            viewer,
            caching="no-store",
            status_code=error.status_code,
            **context,
            error=error.message,
        )
        return with_error_headers(response, error)
    return reader_page(
        request, "pages/search.html", viewer, caching="private", **{**context, "hits": hits}
    )
