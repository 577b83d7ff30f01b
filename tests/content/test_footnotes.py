"""R-C3 and R-C4: which notes each text carries, their numbers, and the author's warnings."""

from app.content import Footnote, render_report


def test_a_citation_renders_as_a_numbered_link_to_its_note():
    report = render_report("Claim[^src].\n\n[^src]: Source, 2024.\n")

    assert '<sup class="footnote-ref"><a href="#fn-1" id="fnref-1"' in report.full_html
    assert ">[1]</a></sup>" in report.full_html
    assert report.full_footnotes == (Footnote(n=1, html="<p>Source, 2024.</p>"),)


def test_notes_are_numbered_by_first_citation_not_by_definition_order():
    body = "First[^z]. Second[^a].\n\n[^a]: Note A.\n[^z]: Note Z.\n"

    report = render_report(body)

    assert report.full_footnotes == (
        Footnote(n=1, html="<p>Note Z.</p>"),
        Footnote(n=2, html="<p>Note A.</p>"),
    )


def test_a_repeated_citation_shows_the_same_number_with_unique_ids():
    report = render_report("One[^a]. Two[^b]. Again[^a].\n\n[^a]: A.\n[^b]: B.\n")

    assert report.full_html.count('href="#fn-1"') == 2
    assert 'id="fnref-1"' in report.full_html
    assert 'id="fnref-1-2"' in report.full_html
    assert [note.n for note in report.full_footnotes] == [1, 2]


def test_footnote_section_is_not_part_of_the_html():
    report = render_report("Claim[^a].\n\n<!-- paywall -->\n\nMore.\n\n[^a]: The source.\n")

    for html in (report.full_html, report.preview_html):
        assert "The source." not in html
        assert "footnotes" not in html
        assert "footnote-backref" not in html
        assert "\u21a9" not in html


def test_note_html_has_no_back_reference_arrow():
    report = render_report("Claim[^a] and again[^a].\n\n[^a]: The source.\n")

    assert report.full_footnotes[0].html == "<p>The source.</p>"


def test_a_note_keeps_all_its_paragraphs():
    report = render_report("Claim[^a].\n\n[^a]: First part.\n\n    Second part.\n")

    assert report.full_footnotes[0].html == "<p>First part.</p>\n<p>Second part.</p>"


def test_labels_can_be_any_word():
    report = render_report("Claim[^note-a].\n\n[^note-a]: Labelled note.\n", access_level="public")

    assert report.full_footnotes == (Footnote(n=1, html="<p>Labelled note.</p>"),)
    assert report.warnings == ()


def test_definitions_after_the_cut_still_serve_citations_before_it():
    body = "Claim[^a].\n\n<!-- paywall -->\n\nPaid.\n\n[^a]: Defined at the end.\n"

    report = render_report(body)

    assert report.preview_footnotes == (Footnote(n=1, html="<p>Defined at the end.</p>"),)
    assert 'href="#fn-1"' in report.preview_html


def test_preview_never_carries_a_footnote_cited_only_after_the_cut():
    body = "Free[^a].\n\n<!-- paywall -->\n\nPaid[^b].\n\n[^a]: Free note.\n[^b]: Paid note.\n"

    report = render_report(body)

    assert [note.n for note in report.full_footnotes] == [1, 2]
    assert report.preview_footnotes == (Footnote(n=1, html="<p>Free note.</p>"),)
    assert "Paid note." not in report.preview_text


def test_preview_keeps_the_full_texts_numbering():
    body = (
        "Free[^a] and[^b].\n\n<!-- paywall -->\n\nPaid[^c] and[^b] again.\n\n"
        "[^c]: Note C.\n[^b]: Note B.\n[^a]: Note A.\n"
    )

    report = render_report(body)

    assert [note.n for note in report.full_footnotes] == [1, 2, 3]
    assert report.preview_footnotes == report.full_footnotes[:2]
    assert 'href="#fn-2"' in report.preview_html
    assert 'href="#fn-3"' not in report.preview_html


def test_preview_citation_ids_match_the_full_text():
    body = "Free[^a] and[^a].\n\n<!-- paywall -->\n\nPaid[^a].\n\n[^a]: Note A.\n"

    report = render_report(body)

    assert 'id="fnref-1-2"' in report.preview_html
    assert 'id="fnref-1-3"' not in report.preview_html
    assert 'id="fnref-1-3"' in report.full_html


def test_a_note_cited_inside_a_preview_note_comes_with_it_under_its_full_number():
    body = (
        "Free[^a].\n\n<!-- paywall -->\n\nPaid[^b].\n\n"
        "[^a]: Note A, after [^c].\n[^b]: Note B.\n[^c]: Note C.\n"
    )

    report = render_report(body)

    assert [note.n for note in report.full_footnotes] == [1, 2, 3]
    assert [note.n for note in report.preview_footnotes] == [1, 3]
    assert 'href="#fn-3"' in report.preview_footnotes[0].html


def test_a_citation_without_a_note_warns_and_stays_literal():
    report = render_report("Claim[^9].\n\nOther[^a].\n\n[^a]: A.\n")

    assert "citation [^9] has no note" in report.warnings
    assert "[^9]" in report.full_html
    assert [note.n for note in report.full_footnotes] == [1]


def test_a_citation_without_a_note_warns_even_when_no_note_exists():
    report = render_report("Claim[^9] and again[^9].\n", access_level="public")

    assert report.warnings == ("citation [^9] has no note",)


def test_citation_syntax_in_code_or_escaped_does_not_warn():
    report = render_report(
        "Use `[^9]` or \\[^9] for notes.\n\n```\n[^8]\n```\n", access_level="public"
    )

    assert report.warnings == ()


def test_a_note_never_cited_warns_and_is_left_out():
    report = render_report("Claim[^a].\n\n[^a]: A.\n[^x]: Orphan note.\n")

    assert "note [^x] is never cited" in report.warnings
    assert all("Orphan" not in note.html for note in report.full_footnotes)
    assert "Orphan" not in report.full_text


def test_a_note_defined_twice_warns():
    report = render_report("Claim[^a].\n\n[^a]: First.\n[^a]: Second.\n")

    assert any("[^a] is defined more than once" in warning for warning in report.warnings)
    assert len(report.full_footnotes) == 1


def test_a_clean_body_has_no_warnings():
    report = render_report("Claim[^a].\n\n<!-- paywall -->\n\nMore[^b].\n\n[^a]: A.\n[^b]: B.\n")

    assert report.warnings == ()
