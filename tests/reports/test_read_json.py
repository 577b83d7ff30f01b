"""The report read's body (app/reports/reading.py: Core rows, orjson) is ReportDetail's JSON,
the same as ReportDetail built from the ORM objects and the one access decision (how the
endpoint answered before orjson, kept here as an independent oracle), and the read stays a
few statements."""

from __future__ import annotations

import pytest
from sqlalchemy import or_, select

from app.access import Anonymous, decide_access, is_complimentary
from app.accounts.service import member_of
from app.config import get_settings
from app.db import session_scope
from app.holdings import load_entitlements
from app.models import Report, Tier, TierCollection, User, utcnow
from app.reports import service
from app.reports.schemas import CollectionPublic, FootnoteOut, Paywall, ReportDetail
from app.reports.service import PAYWALL_MESSAGES, view_of
from tests.support.statements import statements

SLUG = "sahel-drones"
URL = f"/api/v1/reports/{SLUG}"
BODY = (
    "The lead anyone may read[^1], with \u00e9 and \u2028 and </script>.\n\n"
    "<!-- paywall -->\n\n"
    "The secret analysis after the cut[^2].\n\n"
    "[^1]: A note before the cut.\n"
    "[^2]: A note after the cut.\n"
)


@pytest.fixture
def report(publish) -> str:  # type: ignore[no-untyped-def]
    return publish(
        slug=SLUG,
        title="Sahel \u201cdrones\u201d",
        summary="Who buys what.",
        body=BODY,
        authors=["A. Author", "B. Author"],
        tags=["zeta", "alpha", "mid-word"],
    )["slug"]


def pydantic_body(user_id: int | None) -> bytes:
    """ReportDetail from the ORM report, its paywall's tiers and decide_access, dumped."""
    now = utcnow()
    with session_scope() as session:
        viewer = Anonymous() if user_id is None else member_of(session.get(User, user_id))  # type: ignore[arg-type]
        report = session.execute(select(Report).where(Report.slug == SLUG)).scalar_one()
        decision = decide_access(report, viewer, load_entitlements(session, viewer, now), now)
        view = view_of(report, decision)
        paywall = None
        if not decision.full:
            covering = select(TierCollection.tier_id).where(
                TierCollection.collection_id == report.collection_id
            )
            tiers = session.execute(
                select(Tier)
                .where(Tier.active.is_(True), or_(Tier.all_collections, Tier.id.in_(covering)))
                .order_by(Tier.id)
            ).scalars()
            base = get_settings().base_url
            paywall = Paywall(
                reason=decision.reason.value,
                message=PAYWALL_MESSAGES[(decision.reason, report.access_level)],
                tiers=service.tiers_public(session, tiers.all()),
                login_url=f"{base}/login?next=/reports/{SLUG}",
                register_url=f"{base}/register?next=/reports/{SLUG}",
                request_url=f"{base}/account#request-subscription",
            )
        detail = ReportDetail(
            slug=report.slug,
            title=report.title,
            summary=report.summary,
            collection=CollectionPublic(
                slug=report.collection.slug,
                name=report.collection.name,
                description=report.collection.description,
            ),
            published_at=report.published_at,
            updated_at=report.updated_at,
            authors=report.authors,
            tags=report.tags,
            access_level=report.access_level,
            complimentary=is_complimentary(report, now),
            access=decision.access.value,
            body_html=view.body_html,
            footnotes=[FootnoteOut(n=f["n"], html=f["html"]) for f in view.footnotes],
            paywall=paywall,
            meter=None,
        )
        return detail.model_dump_json().encode()


def grant_comp(client, admin, reader, tier: str) -> None:  # type: ignore[no-untyped-def]
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": tier}
    )
    assert comp.status_code == 201, comp.text


def test_every_kind_of_viewer_gets_the_schema_s_json_byte_for_byte(
    client, make_account, admin, reader, catalog, report
):
    subscriber = make_account("subscriber@example.org")
    grant_comp(client, admin, subscriber, catalog.tier)
    viewers = {
        "anonymous": (None, {}),
        "reader without a subscription": (reader.id, reader.headers),
        "subscriber": (subscriber.id, subscriber.headers),
        "admin": (admin.id, admin.headers),
    }
    for name, (user_id, headers) in viewers.items():
        response = client.get(URL, headers=headers)
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"] == "application/json"
        # Valid against the schema, and its canonical dump is exactly these bytes.
        detail = ReportDetail.model_validate_json(response.content)
        assert detail.model_dump_json().encode() == response.content, name
        assert response.content == pydantic_body(user_id), name


def test_the_anonymous_preview_is_the_known_document(client, catalog, report):
    body = client.get(URL).json()
    published = body.pop("published_at")
    updated = body.pop("updated_at")
    assert published.endswith("Z") and updated.endswith("Z")
    html = body.pop("body_html")
    assert "lead anyone may read" in html and "secret" not in html
    assert body == {
        "slug": SLUG,
        "title": "Sahel \u201cdrones\u201d",
        "summary": "Who buys what.",
        "collection": {
            "slug": "threat-monitor",
            "name": "Threat Monitor",
            "description": "Threat Monitor covers its field.",
        },
        "authors": ["A. Author", "B. Author"],
        "tags": ["alpha", "mid-word", "zeta"],
        "access_level": "subscribers",
        "complimentary": False,
        "access": "preview",
        "footnotes": [{"n": 1, "html": body["footnotes"][0]["html"]}],
        "paywall": {
            "reason": "login_required",
            "message": (
                "The full text of this report is available to subscribers. "
                "Please log in or register to request subscription information."
            ),
            "tiers": [
                {
                    "slug": "threat-pro",
                    "name": "Threat Pro",
                    "description": "",
                    "all_collections": False,
                    "collections": ["threat-monitor"],
                    "prices": [
                        {"interval": "month", "amount": 2900, "currency": "usd"},
                        {"interval": "year", "amount": 29000, "currency": "usd"},
                    ],
                },
                {
                    "slug": "all-access",
                    "name": "All Access",
                    "description": "",
                    "all_collections": True,
                    "collections": [],
                    "prices": [{"interval": "month", "amount": 4900, "currency": "eur"}],
                },
            ],
            "login_url": f"http://folio.test/login?next=/reports/{SLUG}",
            "register_url": f"http://folio.test/register?next=/reports/{SLUG}",
            "request_url": "http://folio.test/account#request-subscription",
        },
        "meter": None,  # metering is off (FOLIO_METERED_FREE_READS unset)
    }
    assert "before the cut" in body["footnotes"][0]["html"]


def selects(sent: list[str]) -> list[str]:
    """The queries (SQLite's explicit BEGIN is the transaction, not a query)."""
    return [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def test_an_entitled_read_is_three_statements_then_none_and_a_cached_preview_none(
    client, admin, reader, catalog, report
):
    grant_comp(client, admin, reader, catalog.tier)
    with statements() as sent:
        assert client.get(URL, headers=reader.headers).json()["access"] == "full"
    # The signed-in reader's live session, the report with its tags, what they hold.
    assert len(selects(sent)) == 3, sent
    assert len(sent) <= 4, sent  # and at most one BEGIN: one transaction
    with statements() as sent:
        assert client.get(URL, headers=reader.headers).json()["access"] == "full"
    # The report, who the reader is and what they hold are this worker's copies now, good
    # until a write bumps a generation (app.holdings_cache, tests/reports/test_holdings_cache.py).
    assert sent == [], sent
    client.get(URL)  # the anonymous preview, now cached
    with statements() as sent:
        assert client.get(URL).json()["access"] == "preview"
    assert sent == []


def test_a_paywalled_read_reads_the_tiers_once_per_generation(client, reader, report):
    with statements() as sent:
        assert client.get(URL, headers=reader.headers).json()["access"] == "preview"
    # + the granting tiers with their prices, and their collections.
    assert len(selects(sent)) == 5, sent
    with statements() as sent:
        assert client.get(URL, headers=reader.headers).json()["access"] == "preview"
    assert sent == [], sent


def test_an_edit_through_one_worker_shows_in_the_other_s_next_entitled_read(
    client, client_with, admin, reader, catalog, report
):
    """The worker's copy of a report and of its paywall's tiers lasts only while the
    content generation stands: an edit anywhere bumps it."""
    worker = client_with()
    for _ in range(2):
        kept = worker.get(URL, headers=reader.headers).json()
        assert kept["title"] == "Sahel \u201cdrones\u201d" and kept["access"] == "preview"
        assert kept["paywall"]["tiers"][0]["name"] == "Threat Pro"
    edited = client.patch(
        f"/api/v1/admin/reports/{SLUG}", headers=admin.headers, json={"title": "Renamed"}
    )
    assert edited.status_code == 200, edited.text
    assert worker.get(URL, headers=reader.headers).json()["title"] == "Renamed"
    renamed = client.patch(
        f"/api/v1/admin/tiers/{catalog.tier}", headers=admin.headers, json={"name": "Threat Max"}
    )
    assert renamed.status_code == 200, renamed.text
    after = worker.get(URL, headers=reader.headers).json()
    assert after["title"] == "Renamed"
    assert [t["name"] for t in after["paywall"]["tiers"]] == ["Threat Max", "All Access"]
