"""The COUNTER_SUSHI API's rules: credentials, parameters, dates and Exceptions (Appendix D).

Errors that stop a request are raised as CounterException (one Exception, its HTTP
status); problems a report can live with become Exceptions in its Report_Header (HTTP 200).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from app.config import Settings
from app.models import Organization
from app.usage.counter import month_start, next_month, previous_month, processing_state
from app.usage.credentials import credential_for, key_matches

# Code -> (Message, HTTP status), as Table D.1 of the Code of Practice lists them.
EXCEPTIONS: dict[int, tuple[str, int]] = {
    1030: ("Insufficient Information to Process Request", 400),
    2010: ("Requestor is Not Authorized to Access Usage for Institution", 403),
    2020: ("APIKey Invalid", 401),
    3020: ("Invalid Date Arguments", 400),
    3030: ("No Usage Available for Requested Dates", 200),
    3031: ("Usage Not Ready for Requested Dates", 200),
    3032: ("Usage No Longer Available for Requested Dates", 200),
    3050: ("Parameter Not Recognized in this Context", 200),
    3060: ("Invalid ReportFilter Value", 200),
    3062: ("Invalid ReportAttribute Value", 200),
    3063: ("Components Not Supported", 200),
}


def exception_body(code: int, data: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Code": code, "Message": EXCEPTIONS[code][0]}
    if data:
        body["Data"] = data
    return body


class CounterException(Exception):  # noqa: N818  (COUNTER's own name for it)
    def __init__(self, code: int, data: str | None = None):
        super().__init__(EXCEPTIONS[code][0])
        self.code = code
        self.status_code = EXCEPTIONS[code][1]
        self.body = exception_body(code, data)


@dataclass(frozen=True, slots=True)
class Customer:
    organization: Organization
    customer_id: str


def authenticate(session: Session, params: Mapping[str, str]) -> Customer:
    """customer_id and api_key, as query parameters (the Code's API key method)."""
    customer_id = params.get("customer_id", "").strip()
    if not customer_id:
        raise CounterException(1030, "customer_id is required")
    credential = credential_for(session, customer_id)
    if credential is None:
        raise CounterException(2010, f"customer_id {customer_id} is not known")
    api_key = params.get("api_key", "")
    if not api_key or not key_matches(credential, api_key):
        raise CounterException(2020)
    organization = session.get(Organization, credential.organization_id)
    assert organization is not None  # the credential's foreign key cascades
    return Customer(organization, customer_id)


def platform_name(settings: Settings) -> str:
    return settings.site_name


def namespace(settings: Settings) -> str:
    """The platform's prefix for proprietary IDs (a letter, then 1-17 of [A-Za-z0-9_./])."""
    name = re.sub(r"[^A-Za-z0-9_./]", "", settings.site_name)
    name = re.sub(r"^[^A-Za-z]+", "", name)[:18]
    return name if len(name) >= 2 else "folio"


def institution_id(settings: Settings, customer_id: str) -> dict[str, list[str]]:
    return {"Proprietary": [f"{namespace(settings)}:{customer_id}"]}


_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_month(value: str) -> date:
    """yyyy-mm or yyyy-mm-dd; COUNTER usage is by month, so a day names its month."""
    match = _MONTH.match(value.strip())
    if match is None:
        raise CounterException(3020, f"{value!r} is not yyyy-mm or yyyy-mm-dd")
    year, month, day = match.groups()
    try:
        parsed = date(int(year), int(month), int(day or 1))
    except ValueError:
        raise CounterException(3020, f"{value!r} is not a date") from None
    return month_start(parsed)


@dataclass(slots=True)
class Period:
    begin: date  # first month
    end: date  # last month requested (after clamping to what may be reported)
    exceptions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def end_day(self) -> date:
        return date.fromordinal(next_month(self.end).toordinal() - 1)


def report_period(session: Session, params: Mapping[str, str], now: datetime) -> Period:
    """begin_date..end_date as whole months, with the Exceptions the Code asks for: 3020
    for bad or future dates, 3031 for months not processed yet (their usage is left out),
    3032 for months before the first processed one."""
    raw_begin, raw_end = params.get("begin_date", ""), params.get("end_date", "")
    if not raw_begin.strip() or not raw_end.strip():
        raise CounterException(1030, "begin_date and end_date are required")
    begin, end = parse_month(raw_begin), parse_month(raw_end)
    if end < begin:
        raise CounterException(3020, "end_date is before begin_date")
    current = month_start(now)
    if begin >= current:
        raise CounterException(3020, "begin_date is the current month or later")
    period = Period(begin, end)
    state = processing_state(session)
    last_ready = state.processed_through if state is not None else None
    if last_ready is None or end > last_ready:
        # The current month (or any month not yet processed) is never reported partially.
        first_missing = (
            begin if last_ready is None or last_ready < begin else next_month(last_ready)
        )
        shown_end = min(end, previous_month(current))
        period.exceptions.append(
            exception_body(3031, f"usage not ready for {_span(first_missing, shown_end)}")
        )
        period.end = previous_month(first_missing)
    if state is not None and begin < state.first_month:
        period.exceptions.append(
            exception_body(3032, f"usage is available from {state.first_month.strftime('%Y-%m')}")
        )
    return period


def _span(first: date, last: date) -> str:
    if last <= first:
        return first.strftime("%Y-%m")
    return f"{first.strftime('%Y-%m')} to {last.strftime('%Y-%m')}"


def pipe_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split("|") if part.strip()]
