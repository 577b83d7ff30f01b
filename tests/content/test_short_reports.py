"""R-C2: a report that is not public never has its whole body as its preview."""

import pytest

from app.content import render_report

PAID_LEVELS = ("subscribers", "registered")


def _warned(report, words: str) -> bool:
    return any(words in warning for warning in report.warnings)


@pytest.mark.parametrize("access_level", PAID_LEVELS)
def test_a_short_paid_report_previews_only_its_first_block(access_level):
    report = render_report("One.\n\nTwo.\n\nThree.", access_level=access_level)

    assert report.preview_html == "<p>One.</p>"
    assert report.preview_text == "One."
    assert report.has_cut
    assert _warned(report, "whole body")


def test_a_one_block_paid_report_has_an_empty_preview():
    report = render_report("The only paragraph[^a].\n\n[^a]: Its source.\n")

    assert report.preview_html == ""
    assert report.preview_text == ""
    assert report.preview_footnotes == ()
    assert report.has_cut
    assert _warned(report, "whole body")


def test_a_marker_with_nothing_after_it_on_a_paid_report_counts_as_short():
    report = render_report("One.\n\nTwo.\n\n<!-- paywall -->\n", access_level="subscribers")

    assert report.preview_html == "<p>One.</p>"
    assert _warned(report, "whole body")


def test_a_marker_followed_only_by_notes_on_a_paid_report_counts_as_short():
    report = render_report(
        "One[^a].\n\nTwo[^b].\n\n<!-- paywall -->\n\n[^a]: A.\n[^b]: B.\n",
        access_level="registered",
    )

    assert report.preview_html.startswith("<p>One")
    assert "Two" not in report.preview_html
    assert [note.n for note in report.preview_footnotes] == [1]


def test_a_short_public_report_is_its_own_preview_without_a_warning():
    report = render_report("One.\n\nTwo.", access_level="public")

    assert report.preview_html == report.full_html
    assert not report.has_cut
    assert report.warnings == ()


def test_a_long_enough_paid_report_is_cut_as_usual_without_a_warning():
    report = render_report("One.\n\nTwo.\n\nThree.\n\nFour.", access_level="subscribers")

    assert "Three." in report.preview_html and "Four." not in report.preview_html
    assert report.warnings == ()


def test_an_empty_paid_report_needs_no_warning():
    report = render_report("<!-- only a comment -->\n", access_level="subscribers")

    assert report.preview_html == report.full_html == ""
    assert report.warnings == ()


def test_a_cutting_marker_gives_no_warning():
    report = render_report("One.\n\n<!-- paywall -->\n\nTwo.", access_level="subscribers")

    assert report.warnings == ()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("One. <!-- paywall --> Two.\n\nThree.", "line of text"),
        ("# Title <!-- paywall -->\n\nText.", "line of text"),
        ("One.\n\n<!-- paywall --> Two.\n\nThree.", "line of text"),
        ("One.\n\n<div>\n<!-- paywall -->\n</div>\n\nTwo.", "HTML block"),
        ("One.\n\n```\n<!-- paywall -->\n```\n\nTwo.", "code"),
        ("One.\n\n    <!-- paywall -->\n\nTwo.", "code"),
        ("One `<!-- paywall -->` here.\n\nTwo.", "code"),
        ("One.\n\n> <!-- paywall -->\n\nTwo.", "list, quote or note"),
        ("- one\n\n  <!-- paywall -->\n- two\n\nAfter.", "list, quote or note"),
        ("One[^a].\n\n[^a]: Note.\n\n    <!-- paywall -->\n", "list, quote or note"),
    ],
)
def test_a_marker_that_cannot_cut_warns_and_does_not_cut(body, why):
    report = render_report(body, access_level="public", preview_blocks=10)

    assert _warned(report, why), report.warnings
    assert _warned(report, "ignored"), report.warnings
    assert report.preview_html == report.full_html
