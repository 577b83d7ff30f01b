"""The bare baselines: a Starlette endpoint and a FastAPI route returning the same bytes as
Folio's responses (`bench.bare:app`, `bench.bare:fastapi_app`)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
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

# The framework's own ceiling: one FastAPI route, no dependencies, the same bytes.
fastapi_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_app.get("/preview")
async def fastapi_preview() -> Response:
    return Response(_PREVIEW, media_type="application/json")


@fastapi_app.get("/full")
async def fastapi_full() -> Response:
    return Response(_FULL, media_type="application/json")
