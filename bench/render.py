"""Rendering at save time: a 50 KB body with 40 notes, Markdown to stored HTML and text.

The timing that used to sit in a unit test lives here, where a slow machine cannot fail it.
"""

from __future__ import annotations

import statistics
import time

from app.content import render_report

ROUNDS = 20


def fifty_kilobyte_body() -> str:
    paragraph = "Lorem ipsum *dolor* sit amet[^n{i}], [consectetur](https://example.com) elit.\n\n"
    body = "".join(paragraph.format(i=i % 40) for i in range(700))
    body += "".join(f"[^n{i}]: Source {i}, 2024.\n" for i in range(40))
    return body


def main() -> None:
    body = fifty_kilobyte_body()
    render_report(body)  # warm up the parser and the sanitiser
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        render_report(body)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"\nrender_report, {len(body)} characters, {ROUNDS} rounds")
    print(f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms")


if __name__ == "__main__":
    main()
