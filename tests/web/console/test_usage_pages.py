"""Usage in the console: an organization's usage table and CSV, its COUNTER key issued and
rotated behind a CSRF form (shown once; the old key stops working at /r51/members), and the
turnaway page, which names organizations and domains, never a reader."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient

from tests.support.app import Account
from tests.usage import conftest as usage_fixtures
from tests.usage import test_admin_usage as admin_usage
from tests.usage.conftest import World
from tests.usage.test_admin_usage import OUTSIDER_EMAIL, OUTSIDER_IP, OUTSIDER_NAME, text
from tests.web.forms import csrf_of, sign_in_browser

# The usage tests' worlds: two licensed organizations, their keys, a month of reads.
world = usage_fixtures.world
usage_world = admin_usage.usage_world

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def members_status(client: TestClient, world: World, key: dict) -> int:
    return client.get("/r51/members", params=world.query(key)).status_code


def test_the_organization_page_shows_usage_by_month_and_report_with_its_csv(
    client: TestClient, admin: Account, usage_world: World
) -> None:
    w = usage_world
    sign_in_browser(client, admin.headers)
    page = f"/admin/organizations/{w.org_b['id']}"
    response = client.get(page, params={"begin": text(w.month), "end": text(w.month)})
    assert response.status_code == 200, response.text
    html = response.text
    assert '<h2 id="usage">Usage</h2>' in html
    # B's month by hand: 3 requests, 2 unique, 1 No_License, 1 Limit_Exceeded.
    assert f"<tr><td>{text(w.month)}</td><td>3</td><td>2</td><td>1</td><td>1</td></tr>" in html
    assert "<tr><td>Lab notes</td><td>0</td><td>0</td><td>1</td><td>1</td></tr>" in html
    link = f"/admin/organizations/{w.org_b['id']}/usage.csv?begin={text(w.month)}&amp;end="
    assert link in html
    download = client.get(link.replace("&amp;", "&") + text(w.month))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sum(int(r["total_item_requests"]) for r in rows) == 3
    assert sum(int(r["no_license"]) + int(r["limit_exceeded"]) for r in rows) == 2


def test_a_bad_month_is_shown_on_the_page(client: TestClient, admin: Account, world: World) -> None:
    sign_in_browser(client, admin.headers)
    response = client.get(f"/admin/organizations/{world.org_a['id']}", params={"begin": "2026-13"})
    assert response.status_code == 422
    assert "begin: 2026-13 is not a month" in response.text
    assert "University A" in response.text  # the page is still there


def test_the_key_is_issued_and_rotated_behind_csrf_and_shown_once(
    client: TestClient, admin: Account, world: World
) -> None:
    sign_in_browser(client, admin.headers)
    page = f"/admin/organizations/{world.org_a['id']}"
    old = world.key_a
    shown = client.get(page)
    assert old["customer_id"] in shown.text
    assert "Rotate the API key" in shown.text
    assert old["api_key"] not in shown.text

    # Without the form's token: refused, and the old key still works.
    refused = client.post(f"{page}/counter-key", follow_redirects=False)
    assert refused.status_code == 403
    assert members_status(client, world, old) == 200

    rotated = client.post(f"{page}/counter-key", data={"csrftoken": csrf_of(shown.text)})
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    [new_key] = SECRET.findall(rotated.text)
    assert new_key != old["api_key"]
    assert "shown this once" in rotated.text
    new = {"customer_id": old["customer_id"], "api_key": new_key}
    assert members_status(client, world, old) == 401
    assert members_status(client, world, new) == 200
    again = client.get(page)
    assert new_key not in again.text and old["customer_id"] in again.text


def test_an_organization_without_a_key_gets_one_from_the_page(
    client: TestClient, admin: Account, world: World
) -> None:
    sign_in_browser(client, admin.headers)
    created = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "College C", "tier": world.org_a["tier"]},
    ).json()
    page = f"/admin/organizations/{created['id']}"
    shown = client.get(page)
    assert "No API key yet" in shown.text
    issued = client.post(f"{page}/counter-key", data={"csrftoken": csrf_of(shown.text)})
    [key] = SECRET.findall(issued.text)
    customer_id = re.search(r"customer ID <code>([^<]+)</code>", issued.text).group(1)  # type: ignore[union-attr]
    assert members_status(client, world, {"customer_id": customer_id, "api_key": key}) == 200


def test_the_turnaway_page_lists_organizations_and_domains_and_no_reader(
    client: TestClient, admin: Account, usage_world: World
) -> None:
    sign_in_browser(client, admin.headers)
    home = client.get("/admin")
    assert 'href="/admin/turnaways"' in home.text
    response = client.get("/admin/turnaways")
    assert response.status_code == 200, response.text
    html = response.text
    assert 'aria-current="page">Turnaways' in html
    assert f'<a href="/admin/organizations/{usage_world.org_b["id"]}">University B</a>' in html
    assert "<td>independent-lab.example</td><td>3</td><td>2</td><td>1</td>" in html
    pages = [html, client.get(f"/admin/organizations/{usage_world.org_b['id']}").text]
    for body in pages:
        for personal in (OUTSIDER_EMAIL, OUTSIDER_NAME, "jane.outsider", OUTSIDER_IP):
            assert personal.lower() not in body.lower()


def test_editors_and_readers_get_the_refusal_page(
    client: TestClient, editor: Account, reader: Account, world: World
) -> None:
    org = world.org_a["id"]
    for account in (editor, reader):
        sign_in_browser(client, account.headers)
        for path in ("/admin/turnaways", f"/admin/organizations/{org}/usage.csv"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert "Not allowed" in response.text
        csrf = csrf_of(client.get("/account").text)
        posted = client.post(f"/admin/organizations/{org}/counter-key", data={"csrftoken": csrf})
        assert posted.status_code == 403
    assert members_status(client, world, world.key_a) == 200
    anonymous = TestClient(client.app)
    response = anonymous.get("/admin/turnaways", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/turnaways"
