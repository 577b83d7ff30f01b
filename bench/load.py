"""Load generation: wrk when installed, else a Python generator with the same report."""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    name: str, url: str, headers: dict[str, str], seconds: int, connections: int
) -> LoadResult:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return LoadResult(
        name,
        rps,
        _ms(*p50.groups()),
        _ms(*p99.groups()),  # type: ignore[union-attr]
        int(errors.group(1)) if errors else 0,
        "wrk",
    )


async def _python_load(
    url: str, headers: dict[str, str], seconds: int, connections: int
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code >= 400:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return len(latencies), latencies, errors


def run_python(
    name: str, url: str, headers: dict[str, str], seconds: int, connections: int
) -> LoadResult:
    count, latencies, errors = asyncio.run(_python_load(url, headers, seconds, connections))
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(name, count / seconds, cuts[49], cuts[98], errors, "python")


def run_load(
    name: str, url: str, headers: dict[str, str], seconds: int = 10, connections: int = 32
) -> LoadResult:
    runner = run_wrk if shutil.which("wrk") else run_python
    return runner(name, url, headers, seconds, connections)
