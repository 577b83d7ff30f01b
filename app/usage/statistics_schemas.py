"""What the admin's usage statistics answer (app/usage/statistics.py): the API's JSON."""

from __future__ import annotations

from pydantic import BaseModel

from app.instants import Instant


class Metrics(BaseModel):
    total_item_requests: int = 0
    unique_item_requests: int = 0
    no_license: int = 0  # COUNTER No_License: refused for want of a licence
    limit_exceeded: int = 0  # COUNTER Limit_Exceeded: the metered allowance spent


class MonthUsage(Metrics):
    month: str  # YYYY-MM


class ReportUsage(Metrics):
    report_id: int
    title: str


class MonthReportUsage(ReportUsage):
    month: str


class OrganizationUsage(BaseModel):
    organization_id: int
    name: str
    begin: str
    end: str
    processed_through: str | None  # the last month counted; later months show zeros
    months: list[MonthUsage]  # every month of the range, zeros included
    reports: list[ReportUsage]  # each report read, over the whole range
    rows: list[MonthReportUsage]  # by month and report (the CSV's lines)
    totals: Metrics


class Denials(BaseModel):
    no_license: int = 0
    limit_exceeded: int = 0
    denials: int = 0


class ReportDenials(Denials):
    report_id: int
    title: str


class OrganizationTurnaways(Denials):
    organization_id: int
    name: str
    reports: list[ReportDenials]


class DomainTurnaways(Denials):
    domain: str
    reports: list[ReportDenials]


class Turnaways(BaseModel):
    begin: str
    end: str
    processed_through: str | None
    organizations: list[OrganizationTurnaways]
    domains: list[DomainTurnaways]  # readers no organization covers: domains, never people


class CounterAccess(BaseModel):
    customer_id: str
    issued_at: Instant
