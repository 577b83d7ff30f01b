"""Every page router, and the static files (CSS, favicon) the pages link."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from app.web import account, reader, seo
from app.web.console import router as console_router

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)
router.include_router(reader.router)
router.include_router(account.router)
router.include_router(seo.router)
router.include_router(console_router)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
