"""Every admin router, under /api/v1/admin."""

from fastapi import APIRouter

from app.admin import comps, content, stats, tiers

router = APIRouter()
router.include_router(content.router)
router.include_router(tiers.router)
router.include_router(comps.router)
router.include_router(stats.router)
