"""Every response carries the security headers (CSP without inline script or style,
nosniff, no referrer, no framing; HSTS over https), the templates need no inline script or
style, and `/docs` loads Swagger UI from this server, not from a CDN on the session's origin."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.api.web import STATIC
from adapters.settings import Settings
from tests.security.conftest import Api, log_in

TEMPLATES = Path(STATIC).parent / "templates"
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_headers(response: httpx.Response, https: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], f"{where}: {policy!r}"
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert "'unsafe-inline'" not in policy, where
    assert "'unsafe-eval'" not in policy, where
    assert all(
        src in (["'self'"], ["'self'", "data:"], ["'none'"]) for src in directives.values()
    ), f"{where}: only this origin: {policy!r}"
    hsts = response.headers.get("strict-transport-security")
    if https:
        assert hsts is not None, where
        assert "max-age=" in hsts, where
    else:
        assert hsts is None, f"{where}: no HSTS over plain http"


def test_pages_api_errors_and_assets_carry_the_headers(api: Api) -> None:
    client = api.client
    answers = [
        client.get("/login"),
        client.get("/api/health"),
        client.get("/api/pipeline"),  # 401
        client.get("/api/pipeline", headers=api.as_("audrey")),
        client.get("/static/kringloop.css"),
        client.get("/openapi.json"),
        client.get("/docs"),
        client.get("/pipeline", follow_redirects=False),  # 303 to the login
        client.get("/no-such-page"),
    ]
    log_in(client, api.tokens["audrey"])
    answers += [
        client.get("/pipeline"),
        client.get("/programmes/mra-circular"),
        client.get("/initiatives/timber-reuse"),
        client.get("/audit"),
    ]
    for response in answers:
        assert_headers(response)


def test_hsts_over_https(loaded_home: tuple[Path, dict[str, str]]) -> None:
    home, _ = loaded_home
    with TestClient(create_app(Settings(home=home)), base_url="https://testserver") as client:
        assert_headers(client.get("/login"), https=True)
        assert_headers(client.get("/api/health"), https=True)


def test_the_templates_need_no_inline_script_or_style() -> None:
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text()
        assert not re.search(r"\sstyle\s*=", text), f"{template.name}: a style attribute"
        assert not re.search(r"<style\b", text), f"{template.name}: a <style> element"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{template.name}: an event handler"
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script, f"{template.name}: an inline script"
        assert "javascript:" not in text, template.name


def test_the_programme_page_shows_progress_without_inline_style(api: Api) -> None:
    log_in(api.client, api.tokens["audrey"])
    page = api.client.get("/programmes/mra-circular").text
    assert "style=" not in page
    assert "<meter" in page, "the share reached is a <meter>"


def test_docs_load_nothing_from_another_host(api: Api) -> None:
    docs = api.client.get("/docs")
    assert docs.status_code == 200
    html = docs.text
    assert "SwaggerUIBundle" not in html, "the set-up is a script file, not inline"
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, "the page loads its assets"
    for reference in references:
        assert reference.startswith("/"), f"{reference}: not on this server"
        assert not reference.startswith("//"), reference
        asset = api.client.get(reference)
        assert asset.status_code == 200, reference
        assert_headers(asset)
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert not script.strip(), "no inline script"
    assert "cdn" not in html.lower()
    assert api.client.get("/redoc").status_code == 404, "ReDoc loaded from a CDN: gone"
