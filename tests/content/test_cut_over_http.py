"""R-C2/R-C3 through the API: what an anonymous reader gets of a report saved with a cut."""

from __future__ import annotations

SECRET_URL = "https://secret.example/dossier"
SECRET_TITLE = "Quillwort Dossier"
LATE_WORD = "zanzibarite"


def _anonymous_outputs(client, catalog, query: str) -> dict[str, str]:
    """Every public place a report's text can reach, keyed by where it came from."""
    return {
        "report": client.get("/api/v1/reports/cut").text,
        "search": client.get("/api/v1/search", params={"q": query}).text,
        "feed": client.get("/feeds/rss.xml").text,
        "collection feed": client.get(f"/feeds/{catalog.collection}.xml").text,
    }


def test_a_link_defined_after_the_cut_reaches_no_anonymous_reader(client, publish, catalog):
    body = (
        "Read [the dossier][s] on ports.\n\n<!-- paywall -->\n\n"
        f'The {LATE_WORD} part.\n\n[s]: {SECRET_URL} "{SECRET_TITLE}"\n'
    )
    saved = publish(slug="cut", body=body)
    assert SECRET_URL in saved["full_html"]
    assert SECRET_URL not in saved["preview_html"]

    outputs = _anonymous_outputs(client, catalog, "ports")
    assert client.get("/api/v1/reports/cut").json()["access"] == "preview"
    assert "[the dossier][s]" in client.get("/api/v1/reports/cut").json()["body_html"]
    assert client.get("/api/v1/search", params={"q": "ports"}).json()["items"]
    for where, text in outputs.items():
        assert "secret.example" not in text, where
        assert SECRET_TITLE not in text, where
        assert LATE_WORD not in text, where


def test_a_short_subscriber_report_is_not_given_away(client, publish, catalog):
    saved = publish(slug="cut", body=f"Opening on ports.\n\nThe {LATE_WORD} finding.\n")

    assert saved["preview_html"] == "<p>Opening on ports.</p>"
    assert any("whole body" in warning for warning in saved["warnings"])
    body = client.get("/api/v1/reports/cut").json()
    assert body["access"] == "preview" and body["body_html"] == "<p>Opening on ports.</p>"
    hits = client.get("/api/v1/search", params={"q": LATE_WORD}).json()["items"]
    assert [hit["slug"] for hit in hits] == ["cut"]
    for where, text in _anonymous_outputs(client, catalog, LATE_WORD).items():
        assert LATE_WORD not in text, where


def test_making_a_short_public_report_paid_renders_its_preview_again(
    client, publish, admin, catalog
):
    publish(slug="cut", access_level="public", body=f"Opening.\n\nThe {LATE_WORD} finding.\n")
    assert LATE_WORD in client.get("/api/v1/reports/cut").json()["body_html"]

    changed = client.patch(
        "/api/v1/admin/reports/cut", headers=admin.headers, json={"access_level": "subscribers"}
    )

    assert changed.status_code == 200
    assert any("whole body" in warning for warning in changed.json()["warnings"])
    for where, text in _anonymous_outputs(client, catalog, LATE_WORD).items():
        assert LATE_WORD not in text, where


def test_a_complimentary_short_report_is_read_whole_but_stores_a_short_preview(
    client, publish, admin
):
    saved = publish(slug="cut", complimentary=True, body=f"Opening.\n\nThe {LATE_WORD} finding.")
    assert saved["preview_html"] == "<p>Opening.</p>"
    assert LATE_WORD in client.get("/api/v1/reports/cut").json()["body_html"]

    client.patch("/api/v1/admin/reports/cut", headers=admin.headers, json={"complimentary": False})

    body = client.get("/api/v1/reports/cut").json()
    assert body["access"] == "preview" and LATE_WORD not in body["body_html"]


def test_an_inline_marker_is_ignored_and_the_save_says_so(client, publish, admin):
    saved = publish(slug="cut", access_level="public", body="One. <!-- paywall --> Two.\n\nThree.")

    assert any("line of text" in warning for warning in saved["warnings"])
    again = client.get("/api/v1/admin/reports/cut", headers=admin.headers).json()
    assert again["warnings"] == saved["warnings"]


def test_author_html_reaches_readers_without_ids_classes_or_foreign_hosts(client, publish):
    publish(
        slug="cut",
        access_level="public",
        body=(
            'Claim[^a]. <a id="config" class="btn" href="//evil.example/x">x</a> '
            '<img src="//evil.example/p.png" alt="p">\n\n[^a]: Source.\n'
        ),
    )

    body = client.get("/api/v1/reports/cut").json()

    assert "evil.example" not in body["body_html"]
    assert 'id="config"' not in body["body_html"] and 'class="btn"' not in body["body_html"]
    assert 'id="fnref-1"' in body["body_html"]
