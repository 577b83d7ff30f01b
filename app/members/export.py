"""The member list as CSV, streamed page by page: constant memory whatever the count.

Cells a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) are
prefixed with a quote (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from app.db import session_scope
from app.members.search import search_members
from app.models import utcnow

COLUMNS = ("id", "email", "name", "role", "status", "email_verified", "disabled", "created_at")
PAGE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def member_csv(
    q: str | None = None, status: str | None = None, tier: str | None = None
) -> Iterator[str]:
    """Yields the header, then one chunk per page. Each page is its own short read
    transaction (the request's session is gone once streaming starts)."""
    yield _line(list(COLUMNS))
    cursor: str | None = None
    now = utcnow()
    while True:
        with session_scope(write=False) as session:
            page = search_members(
                session, now, q=q, status=status, tier=tier, limit=PAGE, cursor=cursor
            )
        chunk = io.StringIO()
        writer = csv.writer(chunk, lineterminator="\r\n")
        for member in page.items:
            writer.writerow(
                [
                    member.id,
                    defuse(member.email),
                    defuse(member.name),
                    member.role,
                    member.status,
                    str(member.email_verified).lower(),
                    str(member.disabled).lower(),
                    member.created_at.isoformat(),
                ]
            )
        yield chunk.getvalue()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
