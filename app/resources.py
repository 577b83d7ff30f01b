"""Where the files shipped beside the code live: migrations, alembic.ini, templates.

In a source checkout (an editable install) they sit at the project root; a wheel carries
them inside the package under app/_bundled/ (pyproject.toml, force-include).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED_DIR = _PACKAGE_DIR / "_bundled"
_CHECKOUT_DIR = _PACKAGE_DIR.parent


def resource_path(name: str) -> Path:
    """`migrations`, `alembic.ini` or `templates`, wherever this installation keeps it."""
    bundled = _BUNDLED_DIR / name
    return bundled if bundled.exists() else _CHECKOUT_DIR / name
