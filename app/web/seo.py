"""What crawlers and browsers ask of every site: sitemap.xml, robots.txt and /favicon.ico."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from app.deps import SessionDep, SettingsDep
from app.instants import to_utc
from app.models import utcnow
from app.reports import directory
from app.web.session import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.svg"
# Crawlers need not index what is personal, administrative or machine-facing.
DISALLOWED = ("/admin", "/account", "/api/", "/feeds/private/")
CRAWLER_MAX_AGE = 3600


def _public(response: Response, max_age: int) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@router.get("/sitemap.xml")
def sitemap(session: SessionDep, settings: SettingsDep) -> Response:
    """Home, every collection and every live report, with absolute URLs (sitemaps.org)."""
    base = settings.base_url
    urlset = ET.Element("urlset", xmlns=SITEMAP_NS)

    def add(path: str, lastmod: str | None = None) -> None:
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = base + path
        if lastmod:
            ET.SubElement(url, "lastmod").text = lastmod

    add("/")
    for collection in directory.list_collections(session):
        add(f"/collections/{collection.slug}")
    stamps = directory.live_report_stamps(session, utcnow(), directory.SITEMAP_MAX_URLS)
    for stamp in stamps:
        add(f"/reports/{stamp.slug}", to_utc(stamp.updated_at).isoformat(timespec="seconds"))
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return _public(Response(body, media_type="application/xml"), 300)


@router.get("/robots.txt")
async def robots(settings: SettingsDep) -> Response:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {path}" for path in DISALLOWED]
    lines += ["", f"Sitemap: {settings.base_url}/sitemap.xml", ""]
    return _public(Response("\n".join(lines), media_type="text/plain"), CRAWLER_MAX_AGE)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page links: the SVG icon, not a 404."""
    return _public(FileResponse(FAVICON, media_type="image/svg+xml"), 86_400)
