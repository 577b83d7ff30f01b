"""COUNTER 5.1 reports for one organization, from the monthly aggregates: PR, PR_P1 and IR,
shaped as COUNTER_API.json defines them (the lists and status: app.usage.counter_lists).

Every report item here has Data_Type `Report` and Access_Method `Regular` (Folio serves
reports, and no text and data mining access). Searches_Platform is not counted: searches
are not recorded in the ledger. Granularity `Total` puts each count under the period's
first month (the JSON Counts object only has month keys).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.config import Settings
from app.models import Report, UsageMonthly
from app.usage.counter import METRIC_COLUMNS, month_text
from app.usage.counter_api import (
    Customer,
    Period,
    exception_body,
    institution_id,
    namespace,
    pipe_list,
    platform_name,
    report_period,
)

RELEASE = "5.1"
DATA_TYPES = {  # the Data_Type filter values each report accepts
    "PR": {
        "Article", "Audiovisual", "Book", "Book_Segment", "Conference", "Conference_Item",
        "Database_Full_Item", "Dataset", "Image", "Interactive_Resource", "Journal",
        "Multimedia", "News_Item", "Newspaper_or_Newsletter", "Other", "Patent", "Platform",
        "Reference_Item", "Reference_Work", "Report", "Software", "Sound", "Standard",
        "Thesis_or_Dissertation", "Unspecified",
    },
    "IR": {
        "Article", "Audiovisual", "Book_Segment", "Conference_Item", "Database_Full_Item",
        "Dataset", "Image", "Interactive_Resource", "Multimedia", "News_Item", "Other",
        "Patent", "Reference_Item", "Report", "Software", "Sound", "Standard",
        "Thesis_or_Dissertation", "Unspecified",
    },
}  # fmt: skip
METRIC_NAMES = {
    "Total_Item_Investigations": "total_item_investigations",
    "Unique_Item_Investigations": "unique_item_investigations",
    "Total_Item_Requests": "total_item_requests",
    "Unique_Item_Requests": "unique_item_requests",
    "No_License": "no_license",
    "Limit_Exceeded": "limit_exceeded",
}
# Metric_Types each report may carry (and which of them Folio counts).
PR_METRICS = (
    "Total_Item_Investigations",
    "Total_Item_Requests",
    "Unique_Item_Investigations",
    "Unique_Item_Requests",
)
PR_METRIC_FILTER = {
    *PR_METRICS,
    "Searches_Platform",
    "Unique_Title_Investigations",
    "Unique_Title_Requests",
}
PR_P1_METRICS = ("Total_Item_Requests", "Unique_Item_Requests")
PR_P1_METRIC_FILTER = [
    "Searches_Platform",
    "Total_Item_Requests",
    "Unique_Item_Requests",
    "Unique_Title_Requests",
]
IR_METRICS = (*PR_METRICS, "Limit_Exceeded", "No_License")
ACCESS_TYPES = ("Controlled", "Free_To_Read", "Open")
ACCESS_METHODS = ("Regular", "TDM")
PR_ATTRIBUTES = {"Access_Method"}
IR_ATTRIBUTES = {"Access_Type", "Access_Method", "YOP", "Authors", "Publication_Date"}
# Parameters each report path knows (COUNTER_API.json); any other is Exception 3050.
COMMON_PARAMS = {"customer_id", "requestor_id", "api_key", "platform", "begin_date", "end_date"}
PR_PARAMS = COMMON_PARAMS | {
    "metric_type",
    "data_type",
    "access_method",
    "attributes_to_show",
    "granularity",
    "attributed",
    "country_code",
    "subdivision_code",
}
IR_PARAMS = PR_PARAMS | {
    "access_type",
    "yop",
    "include_parent_details",
    "include_component_details",
    "item_id",
    "author",
}
UNSUPPORTED_FILTERS = ("attributed", "country_code", "subdivision_code", "author")
REPORTS = {
    "PR": ("Platform Report", "Usage of the platform: investigations and requests."),
    "PR_P1": ("Platform Usage", "Requests of the platform's items (a standard view of PR)."),
    "IR": ("Item Report", "Usage of each report on the platform, with denials."),
}


class _Request:
    """One report request's filters and attributes, with the Exceptions they raised."""

    def __init__(self, report_id: str, params: Mapping[str, str], period: Period):
        self.report_id = report_id
        self.params = params
        self.exceptions = list(period.exceptions)
        self.filters: dict[str, Any] = {}
        self.attributes: dict[str, Any] = {}
        known = {"PR": PR_PARAMS, "PR_P1": COMMON_PARAMS, "IR": IR_PARAMS}[report_id]
        unknown = sorted(name for name in params if name not in known)
        if unknown:
            self._warn(3050, ", ".join(unknown))

    def _warn(self, code: int, data: str) -> None:
        self.exceptions.append(exception_body(code, data))

    def choose(self, name: str, allowed: set[str] | tuple[str, ...], label: str) -> list[str]:
        """A pipe-separated filter: the valid values (unknown ones are Exception 3060)."""
        values = pipe_list(self.params.get(name))
        bad = [v for v in values if v not in allowed]
        if bad:
            self._warn(3060, f"{name}: {'|'.join(bad)}")
        chosen = [v for v in values if v in allowed]
        if chosen:
            self.filters[label] = chosen
        return chosen

    def unsupported_filters(self) -> None:
        for name in UNSUPPORTED_FILTERS:
            if self.params.get(name):
                self._warn(3060, f"{name} is not supported")

    def attributes_to_show(self, supported: set[str]) -> list[str]:
        values = pipe_list(self.params.get("attributes_to_show"))
        bad = [v for v in values if v not in supported]
        if bad:
            self._warn(3062, f"attributes_to_show: {'|'.join(bad)}")
        shown = [v for v in values if v in supported]
        if shown:
            self.attributes["Attributes_To_Show"] = shown
        return shown

    def granularity(self) -> str:
        value = self.params.get("granularity", "").strip()
        if value in ("", "Month"):
            return "Month"
        if value in ("Total", "Totals"):
            self.attributes["Granularity"] = "Total"
            return "Total"
        self._warn(3062, f"granularity: {value}")
        return "Month"


def _usage_rows(session: Session, organization_id: int, period: Period) -> list[Any]:
    if period.end < period.begin:
        return []
    u = UsageMonthly
    return list(
        session.execute(
            select(
                u.report_id,
                u.month,
                u.access_type,
                *(getattr(u, column) for column in METRIC_COLUMNS),
            ).where(
                u.organization_id == organization_id,
                u.month >= period.begin,
                u.month <= period.end,
            )
        ).all()
    )


def _header(
    report_id: str,
    customer: Customer,
    settings: Settings,
    period: Period,
    request: _Request,
    now: datetime,
) -> dict[str, Any]:
    filters = {
        "Begin_Date": period.begin.isoformat(),
        "End_Date": period.end_day.isoformat(),
        **request.filters,
    }
    header: dict[str, Any] = {
        "Report_Name": REPORTS[report_id][0],
        "Report_ID": report_id,
        "Release": RELEASE,
        "Institution_Name": customer.organization.name,
        "Institution_ID": institution_id(settings, customer.customer_id),
        "Report_Filters": filters,
    }
    if request.attributes:
        header["Report_Attributes"] = request.attributes
    if request.exceptions:
        header["Exceptions"] = request.exceptions
    header["Created"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    header["Created_By"] = platform_name(settings)
    header["Registry_Record"] = ""  # not (yet) in the COUNTER Registry
    return header


def _counts(by_month: Mapping[date, int], granularity: str, period: Period) -> dict[str, int]:
    if granularity == "Total":
        total = sum(by_month.values())
        return {month_text(period.begin): total} if total else {}
    return {month_text(m): n for m, n in sorted(by_month.items()) if n}


def _performance(
    rows: list[Any], metrics: tuple[str, ...], granularity: str, period: Period
) -> dict[str, dict[str, int]]:
    by_metric: dict[str, dict[date, int]] = {m: defaultdict(int) for m in metrics}
    for row in rows:
        mapping = row._mapping
        for metric in metrics:
            by_metric[metric][row.month] += mapping[METRIC_NAMES[metric]]
    performance = {}
    for metric in metrics:
        counts = _counts(by_metric[metric], granularity, period)
        if counts:
            performance[metric] = counts
    return performance


def _no_usage(request: _Request, period: Period) -> None:
    if period.end >= period.begin:
        request.exceptions.append(exception_body(3030))


def platform_report(
    session: Session,
    customer: Customer,
    params: Mapping[str, str],
    settings: Settings,
    now: datetime,
    standard_view: bool = False,
) -> dict[str, Any]:
    """PR, or its standard view PR_P1 (requests only, no filters or attributes)."""
    report_id = "PR_P1" if standard_view else "PR"
    period = report_period(session, params, now)
    request = _Request(report_id, params, period)
    granularity, metrics, shown = "Month", PR_P1_METRICS, []
    data_ok = True
    if standard_view:
        request.filters = {"Access_Method": ["Regular"], "Metric_Type": PR_P1_METRIC_FILTER}
    else:
        chosen = request.choose("metric_type", PR_METRIC_FILTER, "Metric_Type")
        metrics = tuple(m for m in PR_METRICS if not chosen or m in chosen)
        data_types = request.choose("data_type", DATA_TYPES["PR"], "Data_Type")
        methods = request.choose("access_method", ACCESS_METHODS, "Access_Method")
        data_ok = (not data_types or "Report" in data_types) and (
            not methods or "Regular" in methods
        )
        request.unsupported_filters()
        shown = request.attributes_to_show(PR_ATTRIBUTES)
        granularity = request.granularity()
    rows = _usage_rows(session, customer.organization.id, period) if data_ok else []  # type: ignore[arg-type]
    performance = _performance(rows, metrics, granularity, period)
    items = []
    if performance:
        attribute: dict[str, Any] = {"Data_Type": "Report"}
        if "Access_Method" in shown:
            attribute["Access_Method"] = "Regular"
        attribute["Performance"] = performance
        items.append({"Platform": platform_name(settings), "Attribute_Performance": [attribute]})
    else:
        _no_usage(request, period)
    return {
        "Report_Header": _header(report_id, customer, settings, period, request, now),
        "Report_Items": items,
    }


def item_report(
    session: Session,
    customer: Customer,
    params: Mapping[str, str],
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    period = report_period(session, params, now)
    request = _Request("IR", params, period)
    chosen = request.choose("metric_type", set(IR_METRICS), "Metric_Type")
    metrics = tuple(m for m in IR_METRICS if not chosen or m in chosen)
    data_types = request.choose("data_type", DATA_TYPES["IR"], "Data_Type")
    methods = request.choose("access_method", ACCESS_METHODS, "Access_Method")
    access_types = request.choose("access_type", ACCESS_TYPES, "Access_Type")
    request.unsupported_filters()
    years = request.choose("yop", {str(y) for y in range(1000, 10000)}, "YOP")
    item_filter = params.get("item_id", "").strip()
    if item_filter:
        request.filters["Item_ID"] = item_filter
    if params.get("include_component_details", "").strip() == "True":
        request._warn(3063, "include_component_details")
    shown = request.attributes_to_show(IR_ATTRIBUTES)
    granularity = request.granularity()
    data_ok = (not data_types or "Report" in data_types) and (not methods or "Regular" in methods)
    rows = _usage_rows(session, customer.organization.id, period) if data_ok else []  # type: ignore[arg-type]
    if access_types:
        rows = [r for r in rows if r.access_type in access_types]
    reports = _reports(session, {r.report_id for r in rows})
    prefix = namespace(settings)
    by_item: dict[int, dict[tuple[str, ...], list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        report = reports[row.report_id]
        yop = str(report.published_at.year) if report.published_at else "0001"
        if years and yop not in years:
            continue
        if item_filter and item_filter not in (f"{prefix}:{report.slug}", _uri(settings, report)):
            continue
        group = (
            row.access_type if "Access_Type" in shown else "",
            yop if "YOP" in shown else "",
        )
        by_item[row.report_id][group].append(row)
    items = []
    for report_id in sorted(by_item, key=lambda rid: (reports[rid].title, rid)):
        report = reports[report_id]
        attributes = []
        for (access_type, yop), group_rows in sorted(by_item[report_id].items()):
            performance = _performance(group_rows, metrics, granularity, period)
            if not performance:
                continue
            attribute: dict[str, Any] = {"Data_Type": "Report"}
            if yop:
                attribute["YOP"] = yop
            if access_type:
                attribute["Access_Type"] = access_type
            if "Access_Method" in shown:
                attribute["Access_Method"] = "Regular"
            attribute["Performance"] = performance
            attributes.append(attribute)
        if attributes:
            items.append(_item(report, settings, shown, attributes))
    if not items:
        _no_usage(request, period)
    return {
        "Report_Header": _header("IR", customer, settings, period, request, now),
        "Report_Items": [{"Items": items}] if items else [],
    }


def _reports(session: Session, ids: set[int]) -> dict[int, Report]:
    if not ids:
        return {}
    found = session.execute(select(Report).where(Report.id.in_(ids))).scalars().all()  # type: ignore[union-attr]
    return {r.id: r for r in found}  # type: ignore[misc]


def _uri(settings: Settings, report: Report) -> str:
    return f"{settings.base_url}/reports/{report.slug}"


def _item(
    report: Report, settings: Settings, shown: list[str], attributes: list[dict[str, Any]]
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Item": report.title,
        "Publisher": platform_name(settings),
        "Platform": platform_name(settings),
        "Item_ID": {
            "Proprietary": f"{namespace(settings)}:{report.slug}",
            "URI": _uri(settings, report),
        },
    }
    authors = [{"Name": a} for a in dict.fromkeys(report.authors) if len(a.strip()) >= 2][:3]
    if "Authors" in shown and authors:
        item["Authors"] = authors
    if "Publication_Date" in shown and report.published_at is not None:
        item["Publication_Date"] = report.published_at.date().isoformat()
    item["Attribute_Performance"] = attributes
    return item
