"""Reports from Markdown files with YAML front matter (`folio import-reports`, the demo seed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from app.errors import FolioError
from app.models import Report
from app.reports import editing
from app.reports.admin_schemas import ReportIn, ReportUpdate

FRONT_MATTER_FENCE = "---"


class ImportFileError(ValueError):
    pass


Outcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Imported:
    slug: str
    outcome: Outcome
    status: str
    published_at: datetime | None

    def status_line(self, now: datetime) -> str:
        if self.status == "draft" or self.published_at is None:
            return (
                "draft, not visible to readers (set status: published or scheduled to publish it)"
            )
        when = self.published_at.strftime("%Y-%m-%d %H:%M UTC")
        if self.status == "scheduled":
            return f"scheduled for {when}" + (", live now" if self.published_at <= now else "")
        return f"published {when}"


@dataclass
class ImportResult:
    imported: list[Imported] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file name -> why

    def count(self, outcome: Outcome) -> int:
        return sum(item.outcome == outcome for item in self.imported)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(o)} {o}" for o in ("created", "updated", "unchanged"))
        return f"{counts}, {len(self.failed)} failed"


def parse_report_file(path: Path) -> ReportIn:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"unreadable: {exc}") from exc
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ImportFileError("no YAML front matter (the file must start with ---)")
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == FRONT_MATTER_FENCE)
    except StopIteration as exc:
        raise ImportFileError("front matter is not closed by ---") from exc
    try:
        meta: Any = yaml.safe_load("".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise ImportFileError(f"bad YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ImportFileError("front matter must be a mapping")
    meta.setdefault("slug", path.stem.lower())
    meta["body"] = "".join(lines[end + 1 :]).strip() + "\n"
    try:
        return ReportIn.model_validate(meta)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ImportFileError(problems) from exc


def _current_value(report: Report, name: str) -> Any:
    if name == "collection":
        return report.collection.slug
    if name == "tags":
        return sorted(report.tags)
    return getattr(report, name)


def changes_from(data: ReportIn, report: Report) -> dict[str, Any]:
    """Only the fields the file's front matter names (and its body), where they differ: a
    field the file leaves out keeps what the report has (an edit, or the date it went out)."""
    named = data.model_fields_set - {"slug"}
    wanted = data.model_dump(include=named | {"body"})
    changes = {}
    for name, value in wanted.items():
        # Datetimes compare as they are: ReportIn's Instant and the UTCDateTime column are
        # both aware UTC.
        comparable = sorted(value) if name == "tags" else value
        if comparable != _current_value(report, name):
            changes[name] = value
    return changes


def _import_one(session: Session, data: ReportIn, preview_blocks: int) -> Imported:
    slug: str = data.slug  # type: ignore[assignment]  (parse_report_file always sets it)
    report = session.execute(select(Report).where(Report.slug == slug)).scalar_one_or_none()
    if report is None:
        report = editing.create_report(session, data, None, preview_blocks)
        outcome: Outcome = "created"
    elif changes := changes_from(data, report):
        update = ReportUpdate.model_validate(changes)
        report = editing.update_report(session, slug, update, None, preview_blocks)
        outcome = "updated"
    else:
        outcome = "unchanged"
    return Imported(slug, outcome, report.status, report.published_at)


def import_directory(session: Session, directory: Path, preview_blocks: int) -> ImportResult:
    """Each file wholly or not at all (a savepoint each); a re-import updates by slug."""
    result = ImportResult()
    for path in sorted(directory.glob("*.md")):
        try:
            data = parse_report_file(path)
            with session.begin_nested():
                result.imported.append(_import_one(session, data, preview_blocks))
        except (ImportFileError, FolioError) as exc:
            result.failed[path.name] = str(exc) if isinstance(exc, ImportFileError) else exc.message
    return result
