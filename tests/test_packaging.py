"""Folio works offline and installs as a package: /docs needs no CDN, a wheel carries its files."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
import tomllib
from functools import cache
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent

ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_same_origin(client, page):
    response = client.get(page)
    assert response.status_code == 200
    assert "://" not in response.text  # no CDN, no font service: works on an air-gapped server
    assets = ASSET_URL.findall(response.text)
    assert assets
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        served = client.get(url)
        assert served.status_code == 200, url
        expected = next(kind for suffix, kind in ASSET_TYPES.items() if url.endswith(suffix))
        assert expected in served.headers["content-type"], (url, served.headers["content-type"])


def test_swagger_authorize_still_uses_the_password_login(client):
    page = client.get("/docs").text
    assert "/openapi.json" in page and "oauth2RedirectUrl" in page
    assert client.get("/docs/oauth2-redirect").status_code == 200
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/login"


def _run(*args: str | Path, cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the built wheel; its dependencies come, offline, from the
    project's venv through a .pth line (which leaves out the project's editable install)."""
    work = tmp_path_factory.mktemp("wheel")
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work / "dist", ROOT)
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (purelib / "project-deps.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    (wheel,) = (work / "dist").glob("folio-*.whl")
    _run(*pip, "--python", python, "install", "--no-deps", "--no-index", "-q", wheel)
    return venv / "bin"


def _outside_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLIO_")}
    return env | {"FOLIO_DATABASE_URL": f"sqlite:///{workdir / 'folio.db'}", "FOLIO_ENV": "dev"}


def test_the_installed_wheel_migrates_serves_and_sends_email_outside_the_checkout(
    wheel_venv: Path, tmp_path: Path
):
    env = _outside_env(tmp_path)
    where = _run(wheel_venv / "python", "-c", "import app; print(app.__file__)", cwd=tmp_path)
    assert where.startswith(str(wheel_venv.parent)), where  # the wheel, not the checkout
    assert "latest migration" in _run(wheel_venv / "folio", "migrate", cwd=tmp_path, env=env)
    port = free_port()
    server = subprocess.Popen(
        [wheel_venv / "folio", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert httpx.get(f"{base}/healthz").status_code == 200
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        for url in ASSET_URL.findall(docs.text):
            assert httpx.get(base + url).status_code == 200, url
        # Registering renders the verification email from the shipped templates.
        registered = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"email": "new@example.org", "password": "a long enough password"},
        )
        assert registered.status_code == 202, registered.text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _third_party_imports(*folders: str) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "app", "tests", "bench"}


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {_normalised(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


@cache
def _providers() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()  # reads every RECORD: once


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize(
    ("folders", "extras"), [(("app", "migrations"), ()), (("tests", "bench"), ("dev",))]
)
def test_every_package_the_code_imports_is_a_declared_dependency(folders, extras):
    declared = _declared(*extras)
    providers = _providers()
    undeclared = {
        module: sorted(providers.get(module, ["(not installed)"]))
        for module in _third_party_imports(*folders)
        if not declared & {_normalised(d) for d in providers.get(module, [])}
    }
    assert undeclared == {}
