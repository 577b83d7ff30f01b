"""`folio serve` as a real process (one or many workers) on the test database.

For tests that need what one in-process app cannot show: several workers sharing a
database, Redis and the outbox; a worker killed or stopped; a database or a mail server
that goes away under a running server. Only the PIDs started here are ever signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
FOLIO = Path(sys.executable).parent / "folio"


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What the server printed so far (uvicorn's log and any traceback)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the server (the uvicorn parent) and wait for it; killed if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"folio serve at {base} did not become healthy (exit {process.poll()})")


@contextmanager
def served(
    tmp_path: Path,
    *,
    workers: int = 1,
    env: dict[str, str | None] | None = None,
    start_seconds: float = 60,
) -> Iterator[Served]:
    """Runs `folio serve --workers N` on a free port with the test settings from
    os.environ, changed by `env` (None removes a variable); stops it when the block ends."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        environment.pop(name, None)
        if value is not None:
            environment[name] = value
    port = free_port()
    log = tmp_path / f"folio-serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(FOLIO), "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT,
            env=environment,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_healthy(server.base, process, start_seconds)
        yield server
    except BaseException:
        sys.stderr.write(server.output()[-4000:])
        raise
    finally:
        server.stop()
