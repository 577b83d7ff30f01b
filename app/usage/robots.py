"""Is this user agent a known robot? COUNTER's list (counter_robots.txt), case-insensitive."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

ROBOTS_FILE = Path(__file__).with_name("counter_robots.txt")


@lru_cache(maxsize=1)
def _robot_pattern() -> re.Pattern[str]:
    lines = ROBOTS_FILE.read_text(encoding="utf-8").splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


@lru_cache(maxsize=4096)
def is_robot(user_agent: str | None) -> bool:
    """A missing user agent is a robot too (the list matches the empty string)."""
    return _robot_pattern().search(user_agent or "") is not None
