"""JSON Schemas (draft 2020-12) of the COUNTER responses Folio serves, written by us from the
field names, types, patterns and enumerations of Project-Counter/cop5's
api-specification/COUNTER_API.json (Release 5.1). Strict: unknown fields are refused."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
PROPRIETARY = r"^[a-zA-Z][a-zA-Z0-9_./]{1,17}:.+"
REGISTRY = (
    r"^(https://registry.projectcounter.org/platform/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|)$"
)
ITEM_DATA_TYPES = [
    "Article", "Audiovisual", "Book_Segment", "Conference_Item", "Database_Full_Item",
    "Dataset", "Image", "Interactive_Resource", "Multimedia", "News_Item", "Other", "Patent",
    "Reference_Item", "Report", "Software", "Sound", "Standard", "Thesis_or_Dissertation",
    "Unspecified",
]  # fmt: skip
PLATFORM_DATA_TYPES = sorted(
    {
        *ITEM_DATA_TYPES,
        "Book",
        "Conference",
        "Journal",
        "Newspaper_or_Newsletter",
        "Reference_Work",
    }  # fmt: skip
)
ACCESS_TYPES = ["Controlled", "Open", "Free_To_Read"]
ACCESS_METHODS = ["Regular", "TDM"]
# Exceptions a Report_Header may carry (those Folio can raise among them).
HEADER_CODES = [3030, 3031, 3032, 3050, 3060, 3062, 3063]
MESSAGES = {
    1030: "Insufficient Information to Process Request",
    2000: "Requestor Not Authorized to Access Service",
    2010: "Requestor is Not Authorized to Access Usage for Institution",
    2020: "APIKey Invalid",
    3020: "Invalid Date Arguments",
    3030: "No Usage Available for Requested Dates",
    3031: "Usage Not Ready for Requested Dates",
    3032: "Usage No Longer Available for Requested Dates",
    3050: "Parameter Not Recognized in this Context",
    3060: "Invalid ReportFilter Value",
    3062: "Invalid ReportAttribute Value",
    3063: "Components Not Supported",
}


def _exception(code: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "Code": {"type": "integer", "const": code},
            "Message": {"type": "string", "const": MESSAGES[code]},
            "Help_URL": {"type": "string"},
            "Data": {"type": "string"},
        },
        "required": ["Code", "Message"],
        "additionalProperties": False,
    }


COUNTS = {
    "type": "object",
    "patternProperties": {MONTH: {"type": "integer", "minimum": 0}},
    "minProperties": 1,
    "additionalProperties": False,
}
INSTITUTION_ID = {
    "type": "object",
    "properties": {
        "Proprietary": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": PROPRIETARY},
        }
    },
    "minProperties": 1,
    "additionalProperties": False,
}


def _list(values: list[str]) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "enum": values},
    }


def _header(
    report_id: str, name: str, filters: dict[str, Any], attributes: dict[str, Any] | None
) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Report_Name": {"const": name},
        "Report_ID": {"const": report_id},
        "Release": {"const": "5.1"},
        "Institution_Name": {"type": "string", "minLength": 2},
        "Institution_ID": INSTITUTION_ID,
        "Report_Filters": {
            "type": "object",
            "properties": {
                "Begin_Date": {"type": "string", "format": "date"},
                "End_Date": {"type": "string", "format": "date"},
                "Platform": {"type": "string", "minLength": 2},
                **filters,
            },
            "required": ["Begin_Date", "End_Date"],
            "additionalProperties": False,
        },
        "Exceptions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"oneOf": [_exception(c) for c in HEADER_CODES]},
        },
        "Created": {"type": "string", "format": "date-time"},
        "Created_By": {"type": "string", "minLength": 2},
        "Registry_Record": {"type": "string", "pattern": REGISTRY},
    }
    if attributes is not None:
        properties["Report_Attributes"] = {
            "type": "object",
            "properties": attributes | {"Granularity": {"enum": ["Month", "Total"]}},
            "minProperties": 1,
            "additionalProperties": False,
        }
    return {
        "type": "object",
        "properties": properties,
        "required": [
            "Report_Name",
            "Report_ID",
            "Release",
            "Institution_Name",
            "Institution_ID",
            "Report_Filters",
            "Created",
            "Created_By",
            "Registry_Record",
        ],  # fmt: skip
        "additionalProperties": False,
    }


def _performance(metrics: list[str], min_properties: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {m: COUNTS for m in metrics},
        "minProperties": min_properties,
        "additionalProperties": False,
    }


PR_METRICS = [
    "Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations",
    "Unique_Item_Requests", "Unique_Title_Investigations", "Unique_Title_Requests",
]  # fmt: skip
IR_METRICS = [
    "Total_Item_Investigations", "Total_Item_Requests", "Unique_Item_Investigations",
    "Unique_Item_Requests", "Limit_Exceeded", "No_License",
]  # fmt: skip


def _platform_report(
    report_id: str,
    name: str,
    filters: dict[str, Any],
    attributes: dict[str, Any] | None,
    item_attributes: dict[str, Any],
    metrics: list[str],
) -> dict[str, Any]:
    """PR and PR_P1 share their shape: a header, then per platform its performance by
    Data_Type (and for PR the attributes shown)."""
    return {
        "type": "object",
        "properties": {
            "Report_Header": _header(report_id, name, filters, attributes),
            "Report_Items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "Platform": {"type": "string", "minLength": 2},
                        "Attribute_Performance": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "properties": {
                                    "Data_Type": {"enum": PLATFORM_DATA_TYPES},
                                    **item_attributes,
                                    "Performance": _performance(metrics, 2),
                                },
                                "required": ["Data_Type", "Performance"],
                                "additionalProperties": False,
                            },
                        },
                    },
                    "required": ["Platform", "Attribute_Performance"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["Report_Header", "Report_Items"],
        "additionalProperties": False,
    }


PR = _platform_report(
    "PR",
    "Platform Report",
    {
        "Access_Method": _list(ACCESS_METHODS),
        "Data_Type": _list([*PLATFORM_DATA_TYPES, "Platform"]),
        "Metric_Type": _list(["Searches_Platform", *PR_METRICS]),
    },
    {"Attributes_To_Show": _list(["Access_Method", "Institution_Name", "Customer_ID"])},
    {"Access_Method": {"enum": ACCESS_METHODS}},
    PR_METRICS,
)
PR_P1_METRICS = ["Total_Item_Requests", "Unique_Item_Requests", "Unique_Title_Requests"]
PR_P1 = _platform_report(
    "PR_P1",
    "Platform Usage",
    {
        "Access_Method": {"const": ["Regular"]},
        "Metric_Type": {"const": ["Searches_Platform", *PR_P1_METRICS]},
    },
    None,
    {},
    PR_P1_METRICS,
)
PR_P1["properties"]["Report_Header"]["properties"]["Report_Filters"]["required"] = [  # type: ignore[index]
    "Begin_Date",
    "End_Date",
    "Access_Method",
    "Metric_Type",
]

IR_ITEM = {
    "type": "object",
    "properties": {
        "Item": {"type": "string"},
        "Publisher": {"type": "string"},
        "Platform": {"type": "string", "minLength": 2},
        "Item_ID": {
            "type": "object",
            "properties": {
                "Proprietary": {"type": "string", "pattern": PROPRIETARY},
                "URI": {"type": "string", "format": "uri"},
            },
            "minProperties": 1,
            "additionalProperties": False,
        },
        "Authors": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "uniqueItems": True,
            "items": {
                "type": "object",
                "properties": {"Name": {"type": "string", "minLength": 2}},
                "required": ["Name"],
            },
        },
        "Publication_Date": {"type": "string", "format": "date"},
        "Attribute_Performance": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "Data_Type": {"enum": ITEM_DATA_TYPES},
                    "YOP": {"type": "string", "pattern": "^[0-9]{4}$"},
                    "Access_Type": {"enum": ACCESS_TYPES},
                    "Access_Method": {"enum": ACCESS_METHODS},
                    "Performance": _performance(IR_METRICS, 1),
                },
                "required": ["Data_Type", "Performance"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["Item", "Publisher", "Platform", "Attribute_Performance"],
    "additionalProperties": False,
}
IR = {
    "type": "object",
    "properties": {
        "Report_Header": _header(
            "IR",
            "Item Report",
            {
                "Access_Method": _list(ACCESS_METHODS),
                "Access_Type": _list(ACCESS_TYPES),
                "Data_Type": _list(ITEM_DATA_TYPES),
                "Metric_Type": _list(IR_METRICS),
                "Item_ID": {"type": "string", "minLength": 2},
                "YOP": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "pattern": r"^([0-9]{4}|[0-9]{4}-[0-9]{4})$"},
                },
            },
            {
                "Attributes_To_Show": _list(
                    [
                        "YOP",
                        "Access_Type",
                        "Access_Method",
                        "Authors",
                        "Publication_Date",
                        "Article_Version",
                    ]  # fmt: skip
                ),
                "Include_Parent_Details": {"enum": ["False", "True"]},
                "Include_Component_Details": {"enum": ["False", "True"]},
            },
        ),
        "Report_Items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"Items": {"type": "array", "minItems": 1, "items": IR_ITEM}},
                "required": ["Items"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["Report_Header", "Report_Items"],
    "additionalProperties": False,
}

STATUS = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {
        "type": "object",
        "properties": {
            "Description": {"type": "string"},
            "Service_Active": {"type": "boolean"},
            "Registry_Record": {"type": "string", "pattern": REGISTRY},
            "Note": {"type": "string"},
        },
        "required": ["Service_Active"],
        "additionalProperties": False,
    },
}
MEMBERS = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {
        "type": "object",
        "properties": {
            "Institution_Name": {"type": "string", "minLength": 2},
            "Institution_ID": INSTITUTION_ID,
            "Customer_ID": {"type": "string", "minLength": 1},
            "Requestor_ID": {"type": "string", "minLength": 1},
            "Notes": {"type": "string", "minLength": 2},
        },
        "required": ["Institution_Name", "Customer_ID"],
        "additionalProperties": False,
    },
}
REPORTS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "Report_Name": {"type": "string", "minLength": 2},
            "Report_ID": {"type": "string", "minLength": 2},
            "Release": {"type": "string", "minLength": 1},
            "Report_Description": {"type": "string", "minLength": 2},
            "Path": {"type": "string", "minLength": 2},
            "First_Month_Available": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "Last_Month_Available": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
        },
        "required": [
            "Report_Name",
            "Report_ID",
            "Release",
            "Report_Description",
            "First_Month_Available",
            "Last_Month_Available",
        ],  # fmt: skip
        "additionalProperties": False,
    },
}
ERROR = {"oneOf": [_exception(code) for code in (1030, 2000, 2010, 2020, 3020)]}

SCHEMAS = {
    "pr": PR,
    "pr_p1": PR_P1,
    "ir": IR,
    "status": STATUS,
    "members": MEMBERS,
    "reports": REPORTS,
    "error": ERROR,
}


def assert_valid(kind: str, document: Any) -> None:
    """Raises with every violation listed when `document` breaks the schema."""
    validator = jsonschema_rs.Draft202012Validator(SCHEMAS[kind], validate_formats=True)
    errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors)
