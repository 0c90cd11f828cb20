"""What every page shares: the templates, the backend, and render()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from adapters.api.auth import Principal
from adapters.api.backend import Backend
from adapters.api.web.session import (
    csrf_token,
)
from projections.figures import DEMONSTRATION_NOTE, any_demonstration, share_text

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


def backend(request: Request) -> Backend:
    result: Backend = request.app.state.backend
    return result


def render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "csrf": csrf_token(request),
            "stage_label": _label,
            "share_text": share_text,
            "demonstration_note": (
                DEMONSTRATION_NOTE
                if who and any_demonstration(backend(request).read_store)
                else None
            ),
            **context,
        },
        status_code=status,
    )


def _label(value: str) -> str:
    return value.replace("_", " ")
