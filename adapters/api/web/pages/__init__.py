"""The pages, one module a page: pipeline board, initiative (with its timeline and forms),
programme progress, procurement roadmap, audit. Reads come from the read models; forms run
catalogue commands. Each module has its own router; this one includes them all."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from adapters.api.web.pages import (
    audit,
    communities,
    initiative,
    login,
    notifications,
    organisations,
    pipeline,
    programme,
    statement,
)
from adapters.api.web.pages.common import page_read, render

router = APIRouter(include_in_schema=False)
router.include_router(login.router)
router.include_router(statement.router)  # the accessibility statement, open to all
# the record's pages answer conditionally, from answers kept at the read models' position
for module in (pipeline, initiative, programme, audit, organisations, communities):
    router.include_router(module.router, dependencies=[Depends(page_read)])
# messages change without a new event: this page does not answer conditionally
router.include_router(notifications.router)

__all__ = ["render", "router"]
