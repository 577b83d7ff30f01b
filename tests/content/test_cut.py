"""R-C2: where the preview ends."""

from app.content import render_report

FIVE_PARAGRAPHS = "\n\n".join(
    f"Paragraph {word}." for word in ("one", "two", "three", "four", "five")
)


def test_preview_ends_at_the_paywall_marker():
    report = render_report("Free part.\n\n<!-- paywall -->\n\nPaid part.")

    assert report.preview_html == "<p>Free part.</p>"
    assert "Paid part." in report.full_html
    assert report.has_cut


def test_marker_tolerates_surrounding_whitespace():
    report = render_report("Free part.\n\n   <!-- paywall -->   \n\nPaid part.")

    assert report.preview_html == "<p>Free part.</p>"
    assert report.has_cut


def test_marker_directly_under_a_paragraph_still_cuts():
    report = render_report("Free part.\n<!-- paywall -->\nPaid part.")

    assert report.preview_html == "<p>Free part.</p>"
    assert "Paid part." in report.full_html


def test_marker_never_appears_in_any_output():
    report = render_report("Free.\n\n<!-- paywall -->\n\nPaid.\n\n<!-- paywall -->\n\nMore.")

    for output in (report.full_html, report.preview_html, report.full_text, report.preview_text):
        assert "paywall" not in output
        assert "<!--" not in output


def test_only_the_first_marker_counts():
    report = render_report("One.\n\n<!-- paywall -->\n\nTwo.\n\n<!-- paywall -->\n\nThree.")

    assert report.preview_html == "<p>One.</p>"
    assert "Two." in report.full_html and "Three." in report.full_html
    assert any("only the first" in warning for warning in report.warnings)


def test_marker_wins_over_the_block_count():
    body = FIVE_PARAGRAPHS.replace("Paragraph four.", "<!-- paywall -->\n\nParagraph four.")

    report = render_report(body, preview_blocks=1)

    assert "Paragraph three." in report.preview_html
    assert "Paragraph four." not in report.preview_html


def test_marker_at_the_very_end_of_a_public_report_means_no_cut():
    report = render_report("One.\n\nTwo.\n\n<!-- paywall -->\n", access_level="public")

    assert not report.has_cut
    assert report.preview_html == report.full_html


def test_marker_followed_only_by_footnote_definitions_means_no_cut():
    report = render_report("One[^a].\n\n<!-- paywall -->\n\n[^a]: Source.\n", access_level="public")

    assert not report.has_cut
    assert report.preview_footnotes == report.full_footnotes


def test_marker_at_the_very_start_leaves_an_empty_preview():
    report = render_report("<!-- paywall -->\n\nAll paid.")

    assert report.preview_html == ""
    assert report.preview_text == ""
    assert report.has_cut


def test_marker_inside_a_code_block_is_just_code():
    report = render_report("```\n<!-- paywall -->\n```\n\nText.", access_level="public")

    assert not report.has_cut
    assert "&lt;!-- paywall --&gt;" in report.full_html
    assert any("in code is ignored" in warning for warning in report.warnings)


def test_marker_inside_a_list_is_ignored_with_a_warning():
    report = render_report("- one\n\n  <!-- paywall -->\n- two\n\nAfter.", preview_blocks=1)

    assert "two" in report.preview_html
    assert any("inside a list, quote or note" in warning for warning in report.warnings)


def test_without_a_marker_the_preview_is_the_first_three_blocks():
    report = render_report(FIVE_PARAGRAPHS)

    assert report.preview_html == (
        "<p>Paragraph one.</p>\n<p>Paragraph two.</p>\n<p>Paragraph three.</p>"
    )
    assert report.has_cut


def test_the_block_count_can_be_configured():
    report = render_report(FIVE_PARAGRAPHS, preview_blocks=2)

    assert report.preview_html == "<p>Paragraph one.</p>\n<p>Paragraph two.</p>"


def test_headings_lists_quotes_tables_code_and_rules_each_count_as_one_block():
    body = (
        "# Heading\n\n"
        "- item one\n- item two\n\n"
        "> quoted\n> lines\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```\ncode\n```\n\n"
        "---\n\n"
        "Last paragraph."
    )

    report = render_report(body, preview_blocks=6)

    assert report.preview_html.endswith("<hr>")
    assert "Last paragraph." not in report.preview_html
    assert "<table>" in report.preview_html
    assert report.preview_html.count("<li>") == 2


def test_footnote_definitions_and_comments_do_not_count_as_blocks():
    body = "[^a]: Source.\n\n<!-- an editor's note -->\n\nOne[^a].\n\nTwo.\n\nThree."

    report = render_report(body, preview_blocks=2)

    assert report.preview_html.startswith("<p>One")
    assert "Two." in report.preview_html
    assert "Three." not in report.preview_html


def test_no_cut_when_a_public_body_is_not_longer_than_the_preview():
    report = render_report("One.\n\nTwo.\n\nThree.", access_level="public")

    assert not report.has_cut
    assert report.preview_html == report.full_html
    assert report.preview_text == report.full_text


def test_an_empty_body_renders_to_nothing():
    report = render_report("")

    assert report.full_html == report.preview_html == ""
    assert report.full_text == ""
    assert not report.has_cut


def test_not_one_word_after_the_cut_reaches_the_preview():
    body = (
        "Opening[^a].\n\n<!-- paywall -->\n\nThe zanzibarite finding[^b].\n\n"
        "[^a]: Open source.\n[^b]: Also zanzibarite.\n"
    )

    report = render_report(body)

    assert "zanzibarite" in report.full_html
    assert "zanzibarite" not in report.preview_html
    assert "zanzibarite" not in report.preview_text
    assert all("zanzibarite" not in note.html for note in report.preview_footnotes)


def test_not_one_word_after_a_block_count_cut_reaches_the_preview():
    body = "One[^a].\n\nTwo.\n\nThree.\n\nFour quokkaesque[^b].\n\n[^a]: A.\n[^b]: quokkaesque B.\n"

    report = render_report(body)

    assert "quokkaesque" not in report.preview_html
    assert "quokkaesque" not in report.preview_text
    assert [note.n for note in report.preview_footnotes] == [1]
