"""The tabular (TSV) form of a COUNTER report, made from its JSON form (Code of Practice
5.1, section 3.2 and 5.2): thirteen header rows, a blank row, the column headings, and a
row per Metric_Type with the period's total and each month."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from app.usage.counter import months_between

HEADER_ROWS = (
    "Report_Name",
    "Report_ID",
    "Release",
    "Institution_Name",
    "Institution_ID",
    "Metric_Types",
    "Report_Filters",
    "Report_Attributes",
    "Exceptions",
    "Reporting_Period",
    "Created",
    "Created_By",
    "Registry_Record",
)
IR_ITEM_COLUMNS = ("Item", "Publisher", "Publisher_ID", "Platform", "Authors",
                   "Publication_Date", "Article_Version", "DOI", "Proprietary_ID", "ISBN",
                   "Print_ISSN", "Online_ISSN", "URI")  # fmt: skip


def _month_of(day: str) -> date:
    return date(int(day[:4]), int(day[5:7]), 1)


def _cell(value: Any) -> str:
    text = "|".join(value) if isinstance(value, list) else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _header_values(header: dict[str, Any]) -> dict[str, str]:
    filters = dict(header["Report_Filters"])
    begin, end = filters.pop("Begin_Date"), filters.pop("End_Date")
    requested = filters.pop("Metric_Type", [])
    attributes = dict(header.get("Report_Attributes", {}))
    granularity = attributes.pop("Granularity", "Month")
    if granularity == "Total":
        attributes["Exclude_Monthly_Details"] = "True"
    exceptions = [
        f"{e['Code']}: {e['Message']}" + (f" ({e['Data']})" if e.get("Data") else "")
        for e in header.get("Exceptions", [])
    ]
    return {
        "Report_Name": header["Report_Name"],
        "Report_ID": header["Report_ID"],
        "Release": header["Release"],
        "Institution_Name": header["Institution_Name"],
        "Institution_ID": "; ".join(
            f"{kind}:{v}" if kind != "Proprietary" else v
            for kind, values in header["Institution_ID"].items()
            for v in values
        ),
        "Metric_Types": "; ".join(requested),
        "Report_Filters": "; ".join(f"{k}={_cell(v)}" for k, v in filters.items()),
        "Report_Attributes": "; ".join(f"{k}={_cell(v)}" for k, v in attributes.items()),
        "Exceptions": "; ".join(exceptions),
        "Reporting_Period": f"Begin_Date={begin}; End_Date={end}",
        "Created": header["Created"],
        "Created_By": header["Created_By"],
        "Registry_Record": header["Registry_Record"],
    }


def to_tsv(report: dict[str, Any]) -> str:
    """Tab-separated, UTF-8 with a byte order mark (so spreadsheets detect the encoding)."""
    header = report["Report_Header"]
    filters = header["Report_Filters"]
    monthly = header.get("Report_Attributes", {}).get("Granularity", "Month") == "Month"
    months = (
        months_between(_month_of(filters["Begin_Date"]), _month_of(filters["End_Date"]))
        if monthly
        else []
    )
    is_item_report = header["Report_ID"] == "IR"
    shown = header.get("Report_Attributes", {}).get("Attributes_To_Show", [])
    if is_item_report:
        leading = [*IR_ITEM_COLUMNS, "Data_Type"]
        leading += [a for a in ("YOP", "Access_Type", "Access_Method") if a in shown]
        entries = [
            (item, attribute)
            for parent in report["Report_Items"]
            for item in parent["Items"]
            for attribute in item["Attribute_Performance"]
        ]
    else:
        leading = ["Platform", "Data_Type"] + (
            ["Access_Method"] if "Access_Method" in shown else []
        )
        entries = [
            (item, attribute)
            for item in report["Report_Items"]
            for attribute in item["Attribute_Performance"]
        ]
    columns = [*leading, "Metric_Type", "Reporting_Period_Total"]
    columns += [f"{calendar.month_abbr[m.month]}-{m.year}" for m in months]
    rows = []
    for item, attribute in entries:
        for metric, counts in attribute["Performance"].items():
            fixed = [_item_value(item, attribute, column) for column in leading]
            by_month = [counts.get(m.strftime("%Y-%m"), 0) for m in months]
            rows.append([*fixed, metric, sum(counts.values()), *by_month])
    width = len(columns)
    values = _header_values(header)
    lines = [[name, values[name]] + [""] * (width - 2) for name in HEADER_ROWS]
    lines.append([""] * width)
    lines.append(columns)
    lines.extend(rows)
    return "\ufeff" + "".join("\t".join(_cell(c) for c in line) + "\r\n" for line in lines)


def _item_value(item: dict[str, Any], attribute: dict[str, Any], column: str) -> str:
    if column in attribute:
        return str(attribute[column])
    if column == "Authors":
        return "; ".join(a["Name"] for a in item.get("Authors", []))
    if column == "Proprietary_ID":
        return item.get("Item_ID", {}).get("Proprietary", "")
    if column in ("DOI", "ISBN", "Print_ISSN", "Online_ISSN", "URI"):
        return item.get("Item_ID", {}).get(column, "")
    return str(item.get(column, ""))
