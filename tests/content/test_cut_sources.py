"""R-C3: the preview is rendered from the source before the cut, so nothing after it resolves."""

from app.content import render_report

SECRET_URL = "https://secret.example/report"
SECRET_IMAGE = "https://secret.example/chart.png"
AFTER_CUT_DEFINITIONS = f'[s]: {SECRET_URL} "Secret Title"\n[c]: {SECRET_IMAGE} "Chart Title"\n'


def _assert_nothing_from_after_the_cut(*outputs: str) -> None:
    for output in outputs:
        assert "secret.example" not in output
        assert "Secret Title" not in output
        assert "Chart Title" not in output


def test_a_link_defined_after_the_marker_does_not_resolve_in_the_preview():
    body = (
        "Read [the source][s] and see ![the chart][c].\n\n<!-- paywall -->\n\nPaid.\n\n"
        + AFTER_CUT_DEFINITIONS
    )

    report = render_report(body)

    assert f'href="{SECRET_URL}"' in report.full_html
    assert f'src="{SECRET_IMAGE}"' in report.full_html
    _assert_nothing_from_after_the_cut(report.preview_html, report.preview_text)
    # The preview reads exactly as its own source would: an unresolved reference is text.
    assert report.preview_html == "<p>Read [the source][s] and see ![the chart][c].</p>"
    assert report.preview_text == "Read [the source][s] and see ![the chart][c]."


def test_a_link_defined_after_a_block_count_cut_does_not_resolve_in_the_preview():
    body = "One [source][s].\n\nTwo.\n\nThree.\n\n" + AFTER_CUT_DEFINITIONS

    report = render_report(body, preview_blocks=1)

    assert f'href="{SECRET_URL}"' in report.full_html
    _assert_nothing_from_after_the_cut(report.preview_html, report.preview_text)
    assert report.preview_html == "<p>One [source][s].</p>"


def test_a_definition_between_the_last_preview_block_and_the_next_is_after_the_cut():
    body = f"One [source][s].\n\n[s]: {SECRET_URL}\n\nTwo.\n\nThree."

    report = render_report(body, preview_blocks=1)

    assert "secret.example" not in report.preview_html


def test_a_link_defined_before_the_cut_still_resolves_in_the_preview():
    body = '[o]: https://open.example/page "Open"\n\nRead [it][o].\n\n<!-- paywall -->\n\nPaid.\n'

    report = render_report(body)

    assert 'href="https://open.example/page"' in report.preview_html
    assert 'title="Open"' in report.preview_html


def test_a_note_cited_before_the_cut_comes_along_but_not_links_defined_after_it():
    body = (
        "Claim[^a].\n\n<!-- paywall -->\n\nPaid[^b].\n\n"
        "[^a]: See [the file][s] and https://open.example/n.\n"
        "[^b]: Paid note.\n\n" + AFTER_CUT_DEFINITIONS
    )

    report = render_report(body)

    assert [note.n for note in report.preview_footnotes] == [1]
    preview_note = report.preview_footnotes[0].html
    assert "[the file][s]" in preview_note
    _assert_nothing_from_after_the_cut(preview_note, report.preview_html, report.preview_text)
    assert f'href="{SECRET_URL}"' in report.full_footnotes[0].html
    assert report.preview_text == "Claim. See [the file][s] and https://open.example/n."


def test_a_note_cited_only_by_a_preview_note_comes_along_numbered_as_in_the_full_text():
    body = (
        "Early[^x].\n\n<!-- paywall -->\n\nLate[^y].\n\n"
        "[^y]: Paid.\n[^x]: Outer, see[^z].\n[^z]: Inner.\n"
    )

    report = render_report(body)

    assert [note.n for note in report.full_footnotes] == [1, 2, 3]
    assert [note.n for note in report.preview_footnotes] == [1, 3]
    assert "Inner." in report.preview_footnotes[1].html
    assert 'href="#fn-3"' in report.preview_footnotes[0].html
    assert "Paid." not in report.preview_text


def test_a_note_defined_both_before_and_after_the_cut_reads_as_in_the_full_text():
    body = "Claim[^a].\n\n[^a]: First.\n\n<!-- paywall -->\n\nPaid.\n\n[^a]: Second.\n"

    report = render_report(body)

    assert report.preview_footnotes == report.full_footnotes


def test_windows_line_endings_cut_at_the_same_place():
    body = "Read [it][s].\r\n\r\n<!-- paywall -->\r\n\r\nPaid.\r\n\r\n" + AFTER_CUT_DEFINITIONS

    report = render_report(body)

    assert report.preview_html == "<p>Read [it][s].</p>"
    assert "Paid." in report.full_html
