"""Security headers on every response, and the API docs served from this server.

The policy allows this origin only: no inline script or style (the templates have none;
``tests/security/test_security_headers.py`` checks), no framing, no referrer. HSTS is sent
when the request came over https (behind a proxy: name it in KRINGLOOP_TRUSTED_PROXIES so
its X-Forwarded-Proto counts). Swagger UI comes from the ``swagger-ui-bundle-v2`` package,
not from a CDN that would run its script on the session's origin.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers to every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


# -- the API docs, from this server --------------------------------------------------------

DOCS_SETUP = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
});
"""
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Kringloop API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/set-up.js"></script>
</body>
</html>
"""


def swagger_folder() -> Path:
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(swagger_ui_path)


def mount_docs(app: FastAPI) -> None:
    """`/docs` with Swagger UI's files from the installed package (create the app with
    ``docs_url=None, redoc_url=None``: FastAPI's own pages load them from a CDN)."""
    folder = swagger_folder()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    @app.get("/docs/swagger-ui.css", include_in_schema=False)
    def docs_css() -> FileResponse:
        return FileResponse(folder / "swagger-ui.css", media_type="text/css")

    @app.get("/docs/swagger-ui-bundle.js", include_in_schema=False)
    def docs_js() -> FileResponse:
        return FileResponse(folder / "swagger-ui-bundle.js", media_type="text/javascript")

    @app.get("/docs/set-up.js", include_in_schema=False)
    def docs_set_up() -> Response:
        return Response(DOCS_SETUP, media_type="text/javascript")
