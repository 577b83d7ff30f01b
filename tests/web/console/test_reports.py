"""Reports in the console: the cut preview before saving, and saves through the API's service."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.support.app import Account, Catalog
from tests.web.forms import sign_in_browser, submit

BODY = """First paragraph cites a note.[^a]

Second paragraph.

Third paragraph.

Fourth paragraph, after the cut.

Fifth paragraph, SECRET-AFTER-CUT.[^c]

[^a]: The note before the cut.
[^b]: A note nobody cites.
[^c]: A note cited after the cut.
"""


def _form(catalog: Catalog, **fields: str) -> dict[str, str]:
    return {
        "title": "Grid attacks in 2026",
        "slug": "",
        "summary": "What changed.",
        "collection": catalog.collection,
        "access_level": "subscribers",
        "status": "published",
        "published_at": "",
        "free_after": "",
        "tags": "Energy, grid",
        "authors": "A. Writer, B. Writer",
        "body": BODY,
        "action": "save",
    } | fields


def _report_count(client: TestClient, admin: Account) -> int:
    return len(client.get("/api/v1/admin/reports", headers=admin.headers).json()["items"])


def test_preview_shows_the_teaser_cut_and_the_footnote_warnings_and_saves_nothing(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    before = _report_count(client, admin)
    response = submit(
        client, "/admin/reports/new", "/admin/reports/new", _form(catalog, action="preview")
    )
    assert response.status_code == 200
    html = response.text
    assert "Preview (not saved)" in html
    assert "note [^b] is never cited" in html
    teaser = html.split('id="teaser-heading"')[1].split('id="full-heading"')[0]
    full = html.split('id="full-heading"')[1]
    assert "First paragraph" in teaser and "The note before the cut." in teaser
    assert "SECRET-AFTER-CUT" not in teaser and "A note cited after the cut." not in teaser
    assert "SECRET-AFTER-CUT" in full and "A note cited after the cut." in full
    assert "Grid attacks in 2026" in html  # the form keeps what was typed
    assert _report_count(client, admin) == before


def test_save_creates_the_report_and_shows_its_warnings_on_the_edit_page(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    response = submit(client, "/admin/reports/new", "/admin/reports/new", _form(catalog))
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/admin/reports/grid-attacks-in-2026/edit?done=report-saved"
    )
    edit = client.get(response.headers["location"])
    assert "Report saved." in edit.text and "note [^b] is never cited" in edit.text

    saved = client.get("/api/v1/admin/reports/grid-attacks-in-2026", headers=admin.headers).json()
    assert (saved["status"], saved["collection"], saved["tags"], saved["authors"]) == (
        "published",
        catalog.collection,
        ["energy", "grid"],
        ["A. Writer", "B. Writer"],
    )
    assert "SECRET-AFTER-CUT" not in saved["preview_html"]
    assert "note [^b] is never cited" in saved["warnings"]
    audit = client.get(
        "/api/v1/admin/audit", headers=admin.headers, params={"action": "report.create"}
    ).json()["items"]
    assert audit[0]["actor"] == f"user:{admin.id}"


def test_the_preview_is_what_the_save_stores(
    client: TestClient, editor: Account, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, editor.headers)
    submit(client, "/admin/reports/new", "/admin/reports/new", _form(catalog))
    edit = "/admin/reports/grid-attacks-in-2026/edit"
    preview = submit(client, edit, edit, _form(catalog, action="preview"))
    stored = client.get("/api/v1/admin/reports/grid-attacks-in-2026", headers=admin.headers).json()
    teaser = preview.text.split('id="teaser-heading"')[1].split('id="full-heading"')[0]
    assert stored["preview_html"] in teaser
    assert stored["full_html"] in preview.text.split('id="full-heading"')[1]


def test_an_editor_edits_and_deletes_a_report(
    client: TestClient, editor: Account, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, editor.headers)
    submit(client, "/admin/reports/new", "/admin/reports/new", _form(catalog))
    edit = "/admin/reports/grid-attacks-in-2026/edit"
    changed = submit(client, edit, edit, _form(catalog, title="Grid attacks", status="draft"))
    assert changed.status_code == 303
    saved = client.get("/api/v1/admin/reports/grid-attacks-in-2026", headers=admin.headers).json()
    assert (saved["title"], saved["status"]) == ("Grid attacks", "draft")
    listed = client.get("/admin/reports")
    assert "Grid attacks" in listed.text and "draft" in listed.text

    deleted = submit(client, edit, "/admin/reports/grid-attacks-in-2026/delete", {})
    assert deleted.status_code == 303
    assert _report_count(client, admin) == 0


def test_a_taken_slug_is_the_409_message_on_the_form(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    submit(client, "/admin/reports/new", "/admin/reports/new", _form(catalog, slug="taken"))
    again = submit(client, "/admin/reports/new", "/admin/reports/new", _form(catalog, slug="taken"))
    assert again.status_code == 409
    assert "A report with slug &#39;taken&#39; exists" in again.text
    assert _report_count(client, admin) == 1


def test_a_scheduled_report_without_a_date_is_a_422_on_the_form(
    client: TestClient, admin: Account, catalog: Catalog
) -> None:
    sign_in_browser(client, admin.headers)
    response = submit(
        client, "/admin/reports/new", "/admin/reports/new", _form(catalog, status="scheduled")
    )
    assert response.status_code == 422
    assert "A scheduled report needs published_at" in response.text
    assert _report_count(client, admin) == 0
