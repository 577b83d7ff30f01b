"""R-C1: rendered HTML is sanitised."""

from app.content import render_report


def test_script_tags_are_removed_with_their_content():
    report = render_report(
        "Hello <script>alert('x')</script> world.\n\n<script>\nsteal()\n</script>\n"
    )

    assert "<script" not in report.full_html
    assert "alert" not in report.full_html
    assert "steal" not in report.full_html
    assert "steal" not in report.full_text


def test_event_handler_attributes_are_removed():
    report = render_report('<img src="chart.png" onerror="alert(1)" alt="Chart">\n')

    assert "onerror" not in report.full_html
    assert 'src="chart.png"' in report.full_html


def test_javascript_links_are_removed():
    report = render_report(
        '[md](javascript:alert(1)) <a href="javascript:alert(2)">raw</a> '
        '<a href="JaVaScRiPt:alert(3)">mixed</a>\n'
    )

    assert "href" not in report.full_html
    assert "alert(2)" not in report.full_html
    assert "raw" in report.full_html


def test_data_urls_are_removed():
    report = render_report('<img src="data:image/svg+xml;base64,PHN2Zz4=">\n')

    assert "data:" not in report.full_html


def test_relative_fragment_and_mail_links_survive():
    report = render_report(
        "[a](/reports/x) [b](../y#part) [c](#section) [d](mailto:ed@example.com)\n"
    )

    for href in ("/reports/x", "../y#part", "#section", "mailto:ed@example.com"):
        assert f'href="{href}"' in report.full_html


def test_links_get_noopener_noreferrer():
    report = render_report("[site](https://example.com)\n")

    assert 'rel="noopener noreferrer"' in report.full_html


def test_style_iframe_and_comments_are_removed():
    body = (
        "<style>p{}</style>\n\n"
        "<iframe src='https://evil.example'></iframe>\n\n"
        "Text <!-- secret -->.\n"
    )

    report = render_report(body)

    for fragment in ("<style", "<iframe", "secret", "<!--"):
        assert fragment not in report.full_html


def test_notes_are_sanitised_too():
    report = render_report('Claim[^a].\n\n[^a]: <a href="javascript:x()" onclick="y()">bad</a>\n')

    note = report.full_footnotes[0].html
    assert "javascript" not in note
    assert "onclick" not in note


def test_allowed_markup_survives():
    body = (
        "## Title\n\n*em* **strong** ~~gone~~ `code` H<sub>2</sub>O x<sup>2</sup>\n\n"
        "> quote\n\n1. one\n2. two\n\n| a |\n|:-:|\n| b |\n\n"
        '<figure><img src="/c.png" alt="c"><figcaption>Cap</figcaption></figure>\n'
    )

    html = render_report(body).full_html

    for fragment in (
        "<h2>",
        "<em>",
        "<strong>",
        "<s>gone</s>",
        "<code>",
        "<sub>",
        "<sup>2</sup>",
        "<blockquote>",
        "<ol>",
        '<th style="text-align:center">',
        "<figure>",
        "<figcaption>",
    ):
        assert fragment in html


def test_fenced_code_is_escaped_and_keeps_its_language():
    report = render_report("```python\nprint('<b>')\n```\n")

    assert '<code class="language-python">' in report.full_html
    assert "&lt;b&gt;" in report.full_html
