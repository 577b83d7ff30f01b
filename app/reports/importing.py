"""Reports from Markdown files with YAML front matter (`folio import-reports`, the demo seed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from app.admin.schemas import ReportIn, ReportUpdate
from app.errors import FolioError
from app.models import Report
from app.reports import editing

FRONT_MATTER_FENCE = "---"


class ImportFileError(ValueError):
    pass


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # file name -> why


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


def import_directory(session: Session, directory: Path, preview_blocks: int) -> ImportResult:
    """Each file wholly or not at all (a savepoint each); a re-import updates by slug."""
    result = ImportResult()
    for path in sorted(directory.glob("*.md")):
        try:
            data = parse_report_file(path)
            with session.begin_nested():
                exists = session.execute(
                    select(Report.id).where(Report.slug == data.slug)
                ).scalar_one_or_none()
                if exists is None:
                    editing.create_report(session, data, None, preview_blocks)
                    result.created.append(data.slug)  # type: ignore[arg-type]
                else:
                    update = ReportUpdate.model_validate(data.model_dump())
                    editing.update_report(session, data.slug, update, None, preview_blocks)  # type: ignore[arg-type]
                    result.updated.append(data.slug)  # type: ignore[arg-type]
        except (ImportFileError, FolioError) as exc:
            result.failed[path.name] = str(exc) if isinstance(exc, ImportFileError) else exc.message
    return result
