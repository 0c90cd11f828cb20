"""The pages, one module a page: pipeline board, initiative (with its timeline and forms),
programme progress, procurement roadmap, audit. Reads come from the read models; forms run
catalogue commands. Each module has its own router; this one includes them all."""

from __future__ import annotations

from fastapi import APIRouter

from adapters.api.web.pages import (
    audit,
    communities,
    initiative,
    login,
    organisations,
    pipeline,
    programme,
    statement,
)
from adapters.api.web.pages.common import render

router = APIRouter(include_in_schema=False)
for module in (login, pipeline, initiative, programme, audit):
    router.include_router(module.router)
router.include_router(statement.router)  # the accessibility statement, open to all
for pages in (organisations, communities):  # procurement: organisations, communities
    router.include_router(pages.router)

__all__ = ["render", "router"]
