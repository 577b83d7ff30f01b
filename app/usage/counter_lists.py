"""The COUNTER API's lists and status (/r51/reports, /r51/members, /r51/status), shaped as
COUNTER_API.json defines them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from app.config import Settings
from app.usage.counter import month_text, previous_month, processing_state
from app.usage.counter_api import Customer, institution_id, platform_name
from app.usage.counter_reports import RELEASE, REPORTS


def months_available(session: Session, now: datetime) -> tuple[str, str]:
    state = processing_state(session)
    if state is None:
        last = month_text(previous_month(date(now.year, now.month, 1)))
        return last, last
    return month_text(state.first_month), month_text(state.processed_through)


def report_list(session: Session, now: datetime) -> list[dict[str, Any]]:
    first, last = months_available(session, now)
    return [
        {
            "Report_Name": name,
            "Report_ID": report_id,
            "Release": RELEASE,
            "Report_Description": description,
            "Path": f"/r51/reports/{report_id.lower()}",
            "First_Month_Available": first,
            "Last_Month_Available": last,
        }
        for report_id, (name, description) in REPORTS.items()
    ]


def member_list(customer: Customer, settings: Settings) -> list[dict[str, Any]]:
    return [
        {
            "Customer_ID": customer.customer_id,
            "Institution_Name": customer.organization.name,
            "Institution_ID": institution_id(settings, customer.customer_id),
        }
    ]


def service_status(settings: Settings) -> list[dict[str, Any]]:
    return [
        {
            "Description": f"COUNTER usage statistics of {platform_name(settings)}",
            "Service_Active": True,
            "Registry_Record": "",
        }
    ]
