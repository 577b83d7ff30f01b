"""The ledger's rows: what is kept of a group of identical reads (app.usage.recorder notes
them), and how they are written. No IP address and no email is ever stored:

- a read is attributed to an organization: the licence that granted it, else the live
  licence whose IP range holds the client or whose domain covers the verified email
  (app.holdings.matching_licences, the same lookup the access decision's loader uses);
  an address no organization's range can hold, without a verified email, needs no query
  (every range is kept here under the content generation);
- the client is a member id, or a session key: an HMAC (FOLIO_SECRET_KEY) of the day, client
  IP and user agent, so no raw IP is stored and keys of different days cannot be linked
  (COUNTER's user-sessions are hour slices of a day anyway);
- reads by COUNTER-listed robots are marked.
Staff reads are recorded but attributed to no organization: they are the publisher's own.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.access import Access, Reason, Viewer
from app.config import get_settings
from app.holdings import matching_licences
from app.models import ReadingEvent
from app.reports.preview_cache import NetworkIndex, current_generation, load_network_index
from app.usage.robots import is_robot

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"

# COUNTER Access_Type from the decision's reason. decide_access checks public,
# complimentary and free_after before anything about the viewer, so the same report at the
# same moment has one Access_Type for every reader, as the Code requires.
OPEN_REASONS = frozenset({Reason.PUBLIC})
FREE_TO_READ_REASONS = frozenset({Reason.COMPLIMENTARY, Reason.FREE_AFTER})


def counter_access_type(reason: Reason | str) -> str:
    if reason in OPEN_REASONS:
        return "Open"
    if reason in FREE_TO_READ_REASONS:
        return "Free_To_Read"
    return "Controlled"


@dataclass(frozen=True, slots=True)
class PendingRead:
    """A group of identical reads waiting for the flusher."""

    report_id: int
    access: Access
    reason: Reason
    licence: str | None
    viewer: Viewer
    user_agent: str | None
    first: float
    last: float
    repeats: int

    @property
    def occurred_at(self) -> datetime:
        """The group's last read: the click COUNTER counts."""
        return datetime.fromtimestamp(self.last, UTC)

    @property
    def first_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.first, UTC) if self.first != self.last else None


LEDGER_COLUMNS = (
    "report_id",
    "occurred_at",
    "first_at",
    "repeats",
    "outcome",
    "reason",
    "access_type",
    "organization_id",
    "member_id",
    "session_key",
    "reader_domain",
    "is_robot",
)


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany on the session's connection, in its transaction. The DB-API cursor,
    not SQLAlchemy's insert: per row, the statement's parameter processing and the
    engine's NUL check cost more than the write (measured: bench/usage.py), and every
    value here is ours (enums, ids, hex keys, a verified domain), never the user agent."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    marker = "?" if sqlite else "%s"
    columns, markers = ", ".join(LEDGER_COLUMNS), ", ".join([marker] * len(LEDGER_COLUMNS))
    # Only constants are interpolated; the values are bound.
    statement = f"INSERT INTO {ReadingEvent.__tablename__} ({columns}) VALUES ({markers})"  # noqa: S608
    values = [tuple(row[column] for column in LEDGER_COLUMNS) for row in rows]
    if sqlite:  # SQLite keeps naive UTC text, as app.models.base.UTCDateTime writes it
        values = [tuple(_sqlite_value(value) for value in v) for v in values]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, values)
    except connection.dialect.dbapi.IntegrityError as exc:  # type: ignore[union-attr]
        raise IntegrityError(statement, None, exc) from exc
    finally:
        cursor.close()


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_DATETIME)
    return value


_networks: tuple[Any, NetworkIndex] | None = None  # every organization's ranges, by generation


def _network_index(session: Session) -> NetworkIndex:
    """Every organization's IP ranges, kept under the content generation (which every
    change to organizations or their ranges moves): an address none holds needs no query."""
    global _networks
    generation = current_generation()
    if _networks is None or _networks[0] != generation:
        _networks = (generation, load_network_index(session))
    return _networks[1]


def ledger_rows(session: Session, batch: list[PendingRead]) -> list[dict[str, Any]]:
    """The rows the ledger keeps for these reads: no IP address, no email."""
    secret = get_settings().secret_key.encode()
    networks = _network_index(session)
    attributions: dict[tuple[str | None, str | None], int | None] = {}
    keys: dict[tuple[object, str | None, str | None], str] = {}
    rows = []
    for read in batch:
        viewer = read.viewer
        organization_id = _attributed(session, read, networks, attributions)
        verified_domain = (
            viewer.email_domain  # type: ignore[union-attr]
            if viewer.is_member and viewer.email_verified
            else None
        )
        rows.append(
            {
                "report_id": read.report_id,
                "occurred_at": read.occurred_at,
                "first_at": read.first_at,
                "repeats": read.repeats,
                "outcome": str(read.access),
                "reason": str(read.reason),
                "access_type": counter_access_type(read.reason),
                "organization_id": organization_id,
                "member_id": viewer.id if viewer.is_member else None,  # type: ignore[union-attr]
                "session_key": None if viewer.is_member else _key(secret, read, keys),
                "reader_domain": verified_domain if organization_id is None else None,
                "is_robot": is_robot(read.user_agent),
            }
        )
    return rows


def session_key(secret: bytes, at: datetime, client_ip: str | None, user_agent: str | None) -> str:
    """COUNTER's surrogate for an anonymous user (IP address + user agent), keyed and bound
    to the day so the stored value reveals neither and does not follow a reader for long."""
    message = f"{at.date().isoformat()}|{client_ip or ''}|{user_agent or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _key(secret: bytes, read: PendingRead, keys: dict) -> str:  # type: ignore[type-arg]
    client = (read.occurred_at.date(), read.viewer.client_ip, read.user_agent)
    if client not in keys:
        keys[client] = session_key(secret, read.occurred_at, client[1], client[2])
    return keys[client]


def _attributed(
    session: Session,
    read: PendingRead,
    networks: NetworkIndex,
    cache: dict[tuple[str | None, str | None], int | None],
) -> int | None:
    viewer = read.viewer
    if viewer.is_staff:
        return None
    if read.licence is not None:  # the licence that granted the read
        return int(read.licence.rpartition(":")[2])
    domain = viewer.email_domain if viewer.is_member and viewer.email_verified else None  # type: ignore[union-attr]
    if domain is None and not networks.may_hold(viewer.client_ip):
        return None  # no range holds the address and no domain to match
    key = (viewer.client_ip, domain)
    if key not in cache:
        matches = matching_licences(session, viewer, read.occurred_at)
        cache[key] = matches[0].id if matches else None
    return cache[key]
