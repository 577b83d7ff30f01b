"""The layers of STYLE.md hold: the import-linter contracts in pyproject.toml are all kept.

CI runs `make test` only, so the suite runs the same check `make lint` does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_access_and_content_are_pure_admin_is_a_leaf_and_models_import_no_service():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
