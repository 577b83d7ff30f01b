"""Test-only pauses at named points of a transaction, so a fault test can kill a worker
there (tests/faults/test_crash_mid_webhook.py). Inert unless FOLIO_ENV=test and
FOLIO_TEST_PAUSE_AT names the point: production never sets either, and the check is two
environment lookups. An env setting rather than a database trigger because it works the
same on SQLite (which cannot sleep in a trigger) and PostgreSQL, and names the point in
our code, not in the schema.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_SECONDS = 60  # long past any test's patience: the test kills the worker first


def pause_point(name: str) -> None:
    """Pauses the first pass through `name`, after writing this process's id to the file
    FOLIO_TEST_PAUSE_MARKER (the test waits for it, then kills that pid); later passes, the
    redelivery among them, run through."""
    if os.environ.get("FOLIO_TEST_PAUSE_AT") != name or os.environ.get("FOLIO_ENV") != "test":
        return
    marker = Path(os.environ["FOLIO_TEST_PAUSE_MARKER"])
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(descriptor, str(os.getpid()).encode())
    os.close(descriptor)
    time.sleep(PAUSE_SECONDS)
