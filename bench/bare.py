"""The bare baseline: a Starlette endpoint returning the same bytes as Folio's responses."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

_DIR = Path(os.environ["BENCH_BODIES"])
_PREVIEW = (_DIR / "preview.json").read_bytes()
_FULL = (_DIR / "full.json").read_bytes()


async def preview(_request):  # type: ignore[no-untyped-def]
    return Response(_PREVIEW, media_type="application/json")


async def full(_request):  # type: ignore[no-untyped-def]
    return Response(_FULL, media_type="application/json")


app = Starlette(routes=[Route("/preview", preview), Route("/full", full)])
