"""A CSV answered as a download: one place for its type, file name and no-store caching
(the admin API and the console give the same files)."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.responses import Response, StreamingResponse


def csv_download(content: str | Iterable[str], filename: str) -> Response:
    """A whole text, or lines streamed as they are made (a large export)."""
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    media_type = "text/csv; charset=utf-8"
    if isinstance(content, str):
        return Response(content.encode("utf-8"), media_type=media_type, headers=headers)
    return StreamingResponse(content, media_type=media_type, headers=headers)
