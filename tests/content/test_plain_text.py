"""Plain text for the search index and for snippets."""

import time

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


def test_a_fifty_kilobyte_body_renders_quickly():
    paragraph = "Lorem ipsum *dolor* sit amet[^n{i}], [consectetur](https://example.com) elit.\n\n"
    body = "".join(paragraph.format(i=i % 40) for i in range(700))
    body += "".join(f"[^n{i}]: Source {i}, 2024.\n" for i in range(40))
    assert len(body) >= 50_000

    started = time.perf_counter()
    render_report(body)

    # Generous against slow CI machines; it takes a few tens of milliseconds.
    assert time.perf_counter() - started < 1.0
