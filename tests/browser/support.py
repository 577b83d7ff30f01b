"""Browser-test helpers: the live site, Playwright's event loop, screenshots, axe checks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Page

from app.config import get_settings
from tests.support.smtp import Mailbox

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FAILING_IMPACTS = frozenset({"serious", "critical"})
_axe = Axe()  # axe-core's JS ships inside the package (axe.min.js): nothing is downloaded


@dataclass(frozen=True)
class LiveSite:
    """The app served over HTTP for one test.

    `url` is FOLIO_BASE_URL (http://folio.test): the address the app builds every link
    from (emails, redirects, canonical links) and the one the browser uses, Chromium
    resolving folio.test to the server (see `chromium_args`). `server_url` is the real
    socket (http://127.0.0.1:<port>) for clients outside Chromium: httpx, and Playwright's
    own `page.request`, which runs in the driver and does not see Chromium's host rules.
    """

    url: str
    server_url: str
    app: FastAPI

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def chromium_args(server_url: str) -> list[str]:
    """Chromium resolves the base URL's host to the live server, so a link built from
    FOLIO_BASE_URL opens the live site as is, with the Host and cookie domain the app
    expects, cookies and redirects included. Chosen over page.route interception, which
    would pass every request through the Playwright driver (route.fetch) to rewrite its
    URL and Host header: slower, and a second HTTP client between browser and app."""
    base = urlsplit(get_settings().base_url)
    port = base.port or (443 if base.scheme == "https" else 80)
    server = urlsplit(server_url).netloc
    return ["--no-sandbox", f"--host-resolver-rules=MAP {base.hostname}:{port} {server}"]


class PlaywrightLoop:
    """Keeps Playwright's sync API from leaking its event loop into other tests.

    Between two sync calls, Playwright leaves its loop marked as the thread's running
    loop (playwright/_impl/_greenlets.py, wait_for_future). Under pytest-xdist a worker
    runs browser tests and others in one thread, and an `asyncio.run()` there (e.g.
    tests/test_load.py) would then fail with "cannot be called from a running event
    loop". So the loop is marked running only while a browser test (or the browser's
    own start and stop) runs.
    """

    loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def capture(cls) -> None:
        cls.loop = asyncio.get_running_loop()  # set by the sync call that just returned

    @classmethod
    def resume(cls) -> None:
        if cls.loop is not None and not cls.loop.is_closed():
            asyncio._set_running_loop(cls.loop)

    @staticmethod
    def park() -> None:
        asyncio._set_running_loop(None)


def screenshot(page: Page, name: str) -> Path:
    """Saves a full-page PNG as tests/artifacts/<name>.png (ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def accessibility_violations(page: Page, ignore: Iterable[str] = ()) -> list[dict]:
    """axe-core's violations on the page as it is now, the serious and critical ones."""
    ignored = set(ignore)
    results = _axe.run(page)
    return [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in FAILING_IMPACTS and violation["id"] not in ignored
    ]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node['html'][:160]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
        lines.append(f"    see {violation['helpUrl']}")
    return "\n".join(lines)


def assert_accessible(page: Page, ignore: Iterable[str] = ()) -> None:
    """Fails, listing each rule and element, when axe-core finds a serious or critical
    violation (minor and moderate ones are not failures). `ignore`: axe rule ids to skip,
    for a third-party page only (say why at the call)."""
    violations = accessibility_violations(page, ignore)
    assert not violations, f"accessibility violations on {page.url}:\n{describe(violations)}"


def email_link(mailbox: Mailbox, path: str, to: str) -> str:
    """The newest `{FOLIO_BASE_URL}/<path>?…` line of the email sent to `to` (delivering
    the outbox first), exactly as a reader would click it."""
    base = re.escape(get_settings().base_url)
    text = mailbox.last_text(to)
    found = re.findall(rf"^{base}/{re.escape(path.lstrip('/'))}\?\S+$", text, re.MULTILINE)
    assert found, f"no {path} link on a line of its own in the email to {to}:\n{text}"
    return found[-1]


def email_html(mailbox: Mailbox, to: str) -> str:
    """The HTML body of the newest email sent to `to` (delivering the outbox first), to
    open with page.set_content() and click through as a reader would."""
    mailbox.deliver()
    received = mailbox.to(to)
    assert received, f"no email reached {to}"
    part = received[-1].get_body(preferencelist=("html",))
    assert part is not None, "no text/html part"
    return part.get_content()
