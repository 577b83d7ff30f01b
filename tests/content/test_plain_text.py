"""Plain text for the search index and for snippets."""

from app.content import render_report


def test_full_text_has_the_body_and_every_cited_note_without_markup():
    report = render_report("A *claim*[^a].\n\n<!-- paywall -->\n\nMore.\n\n[^a]: Source & co.\n")

    assert report.full_text == "A claim. More. Source & co."


def test_preview_text_has_the_preview_and_its_notes_only():
    report = render_report(
        "A claim[^a].\n\n<!-- paywall -->\n\nMore[^b].\n\n[^a]: One.\n[^b]: Two.\n"
    )

    assert report.preview_text == "A claim. One."


def test_block_boundaries_separate_words():
    report = render_report("| a | b |\n|---|---|\n| c | d |\n\n- e\n- f\n")

    assert report.full_text == "a b c d e f"


def test_a_fifty_kilobyte_body_renders_whole_with_every_note():
    # Its speed is measured by bench/render.py, not asserted here.
    paragraph = "Lorem ipsum *dolor* sit amet[^n{i}], [consectetur](https://example.com) elit.\n\n"
    body = "".join(paragraph.format(i=i % 40) for i in range(700))
    body += "".join(f"[^n{i}]: Source {i}, 2024.\n" for i in range(40))
    assert len(body) >= 50_000

    report = render_report(body)

    assert report.full_html.count("<p>") == 700
    assert [note.n for note in report.full_footnotes] == list(range(1, 41))
    assert report.full_text.count("Lorem ipsum dolor sit amet, consectetur elit.") == 700
    assert report.preview_html.count("<p>") == 3
    assert [note.n for note in report.preview_footnotes] == [1, 2, 3]
