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


def test_author_html_cannot_set_ids_or_classes():
    body = (
        '<a id="login" class="button" href="/x">a</a> <img id="logo" class="c" src="/i.png"> '
        '<span id="config" class="paywall">s</span> <sup class="footnote-ref">1</sup> '
        '<code class="language-python">c</code> <a id="fnref-1" href="#fn-1">fake</a>\n'
    )

    html = render_report(body).full_html

    assert "id=" not in html
    assert "class=" not in html
    assert 'href="/x"' in html and 'src="/i.png"' in html


def test_ids_and_classes_of_our_own_renderer_survive():
    report = render_report("Claim[^a] and again[^a].\n\n```python\nx\n```\n\n[^a]: Source.\n")

    assert '<sup class="footnote-ref"><a href="#fn-1" id="fnref-1" ' in report.full_html
    assert 'id="fnref-1-2"' in report.full_html
    assert '<code class="language-python">' in report.full_html


def test_a_fence_language_cannot_smuggle_another_class():
    html = render_report('```python" id="x\nx\n```\n').full_html

    assert 'id="x"' not in html
    assert "<code" in html


def test_protocol_relative_urls_are_removed():
    body = (
        "[md](//evil.example/a) ![img](//evil.example/b.png)\n\n"
        '<a href="//evil.example/c">c</a> <img src="//evil.example/d.png"> '
        '<a href="\\\\evil.example/e">e</a> <a href="/\\evil.example/f">f</a> '
        '<a href=" //evil.example/g">g</a> <a href="/&#9;/evil.example/h">h</a> '
        '<a href="&#47;&#47;evil.example/i">i</a>\n'
    )

    html = render_report(body).full_html

    assert "evil.example" not in html
    assert "md" in html and "<img" in html


def test_relative_paths_that_are_not_protocol_relative_survive():
    html = render_report('[a](/reports/x) <img src="charts/c.png"> [b](?page=2)\n').full_html

    assert 'href="/reports/x"' in html
    assert 'src="charts/c.png"' in html
    assert 'href="?page=2"' in html
