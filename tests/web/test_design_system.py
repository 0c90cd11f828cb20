"""The pages look like a Dutch public service: the vendored Amsterdam Design System (NL Design
System family) matches its lock file and is served from here, and every page shares the frame
(skip link, navigation, a language switch that keeps the page, who is logged in, the footer with
the accessibility statement), in Chromium with a visible focus and without JavaScript."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tests.api.conftest import Api
from tests.web.conftest import screenshot
from tests.web.test_pages import logged_in

WEB = Path(__file__).parents[2] / "adapters" / "api" / "web"
ASSETS = WEB / "assets"
VENDOR = WEB / "static" / "vendor" / "amsterdam"
PACKAGES = ("@amsterdam/design-system-css", "@amsterdam/design-system-tokens")


def _versions_txt() -> dict[str, str]:
    text = (VENDOR / "VERSIONS.txt").read_text()
    found = re.findall(r"package: (\S+)\n\s+version: (\S+)", text)
    return dict(found)


def test_the_vendored_versions_are_the_locked_ones() -> None:
    lock = json.loads((ASSETS / "package-lock.json").read_text())
    wanted = json.loads((ASSETS / "package.json").read_text())["dependencies"]
    recorded = _versions_txt()
    assert set(recorded) == set(PACKAGES)
    for name in PACKAGES:
        locked = lock["packages"][f"node_modules/{name}"]["version"]
        assert recorded[name] == locked == wanted[name]  # pinned, not a range
    assert lock["packages"]["node_modules/@amsterdam/design-system-css"]["license"] == "EUPL-1.2"
    assert "licence: EUPL-1.2" in (VENDOR / "VERSIONS.txt").read_text()


def test_the_vendored_files_are_whole_and_carry_no_amsterdam_branding() -> None:
    components = (VENDOR / "components.css").read_text()
    tokens = (VENDOR / "tokens.css").read_text()
    assert ".ams-page-header" in components
    assert ".ams-field--invalid" in components
    assert "--ams-color-interactive:" in tokens
    assert "Amsterdam Sans" not in tokens  # the typeface is not openly licensed
    assert "#004699" not in tokens.lower()  # the city's blue: Kringloop's own colours instead
    assert "url(http" not in components + tokens
    assert "@import" not in components + tokens
    assert (VENDOR / "LICENSE-EUPL-1.2.txt").read_text().startswith(" " * 22 + "EUROPEAN UNION")


def _custom_properties(*files: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for file in files:
        for name, value in re.findall(r"(--[\w-]+):\s*([^;]+);", file.read_text()):
            found.setdefault(name, value.split("/**")[0].strip())
    return found


def _colour(properties: dict[str, str], value: str) -> str:
    while (ref := re.fullmatch(r"var\((--[\w-]+)\)", value)) is not None:
        value = properties[ref.group(1)]
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), value
    return value


def _contrast(one: str, other: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    low, high = sorted((luminance(one), luminance(other)))
    return (high + 0.05) / (low + 0.05)


def test_kringloops_colours_meet_the_contrast_minimums() -> None:
    """Text 4.5:1 on its background, the focus outline 3:1 (WCAG 1.4.3, 1.4.11, 2.4.7)."""
    properties = _custom_properties(WEB / "static" / "kringloop.css", VENDOR / "tokens.css")
    text_on = [
        ("--ams-color-text", "--ams-color-background"),
        ("--ams-color-text", "--kl-surface"),
        ("--ams-color-text-secondary", "--ams-color-background"),
        ("--ams-color-text-secondary", "--kl-surface"),  # the role in the bar
        ("--ams-color-interactive", "--ams-color-background"),
        ("--ams-color-interactive", "--kl-surface"),  # the language switch
        ("--ams-color-interactive-hover", "--ams-color-background"),
        ("--ams-color-feedback-error", "--ams-color-background"),  # error messages
        ("--ams-color-text", "--kl-error-surface"),
        ("--ams-color-text", "--kl-success-surface"),
        ("--ams-color-text-inverse", "--ams-page-footer-spotlight-background-color"),
        ("--ams-skip-link-color", "--ams-skip-link-background-color"),
        ("--ams-button-primary-color", "--ams-button-primary-background-color"),
    ]
    badges = ["", "-azure", "-lime", "-magenta", "-orange", "-purple", "-red", "-yellow"]
    text_on += [(f"--ams-badge{b}-color", f"--ams-badge{b}-background-color") for b in badges]
    for text, background in text_on:
        ratio = _contrast(
            _colour(properties, f"var({text})"), _colour(properties, f"var({background})")
        )
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"
    focus = _colour(properties, "var(--kl-focus)")
    for background in ("--ams-color-background", "--kl-surface"):
        assert _contrast(focus, _colour(properties, f"var({background})")) >= 3


class _Frame(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self.scripts += tag == "script"

    def first(self, tag: str, **wanted: str) -> dict[str, str]:
        for name, attrs in self.tags:
            if name == tag and all(attrs.get(k.rstrip("_")) == v for k, v in wanted.items()):
                return attrs
        raise AssertionError(f"no <{tag} {wanted}>")

    def all(self, tag: str, css_class: str) -> list[dict[str, str]]:
        return [a for n, a in self.tags if n == tag and css_class in a.get("class", "").split()]


def _frame(html: str) -> _Frame:
    parser = _Frame()
    parser.feed(html)
    return parser


def test_the_login_page_has_the_frame_in_dutch(api: Api) -> None:
    response = api.client.get("/login?next=/pipeline")
    frame = _frame(response.text)
    assert frame.first("html")["lang"] == "nl"
    assert frame.first("a", class_="ams-skip-link")["href"] == "#inhoud"
    assert ">Naar de inhoud</a>" in response.text
    assert frame.first("main")["id"] == "inhoud"
    assert frame.scripts == 0
    styles = [a["href"] for n, a in frame.tags if n == "link" and a.get("rel") == "stylesheet"]
    assert styles[:2] == [
        "/static/vendor/amsterdam/tokens.css",
        "/static/vendor/amsterdam/components.css",
    ]
    statement = frame.first("a", href="/toegankelijkheid")
    assert statement["class"] == "ams-page-footer__menu-link"
    assert "Toegankelijkheidsverklaring" in response.text
    assert '<h1 class="ams-heading ams-heading--1" id="login-title">Inloggen</h1>' in response.text
    for path in styles:
        assert api.client.get(path).status_code == 200


def test_the_language_switch_keeps_the_page_and_marks_the_current_language(api: Api) -> None:
    response = api.client.get("/login?next=/programmes")
    frame = _frame(response.text)
    dutch = frame.first("a", hreflang="nl")
    english = frame.first("a", hreflang="en")
    assert dutch["href"] == "/login?next=%2Fprogrammes&lang=nl" or dutch["href"].endswith(
        "next=/programmes&lang=nl"
    )
    assert english["href"].startswith("/login?next=")
    assert english["href"].endswith("&lang=en")
    assert (dutch["lang"], english["lang"]) == ("nl", "en")
    assert dutch.get("aria-current") == "true"
    assert "aria-current" not in english
    switched = api.client.get(english["href"])
    assert _frame(switched.text).first("html")["lang"] == "en"
    assert _frame(switched.text).first("a", hreflang="en").get("aria-current") == "true"
    assert ">Skip to content</a>" in switched.text
    assert ">Log in</h1>" in switched.text


def test_a_logged_in_page_has_the_navigation_the_user_and_the_logout(api: Api) -> None:
    logged_in(api, "broker-bas")
    response = api.client.get("/programmes?lang=nl")
    frame = _frame(response.text)
    links = {a["href"]: a for a in frame.all("a", "ams-page-header__menu-link")}
    assert list(links) == [
        "/pipeline",
        "/programmes",
        "/organisations",
        "/communities",
        "/audit",
        "/notifications",
    ]
    assert links["/programmes"].get("aria-current") == "page"
    assert "aria-current" not in links["/pipeline"]
    for word in ("Pijplijn", "Programma", "Organisaties", "Communities", "Audit", "Meldingen"):
        assert f">{word}</a>" in response.text
    assert 'translate="no">broker-bas</strong>' in response.text
    assert "(transitiemakelaar)" in response.text  # the role in the glossary's word
    logout = frame.first("form", action="/logout")
    assert logout["method"] == "post"
    assert ">Uitloggen</button>" in response.text


Live = tuple[str, dict[str, str]]


def _outline(page: Any) -> tuple[float, str]:
    width, colour = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [parseFloat(s.outlineWidth), s.outlineStyle]; }"
    )
    return float(width), str(colour)


def test_in_chromium_one_logs_in_and_reaches_the_pipeline_without_javascript(
    browser: Any, live_server: Live
) -> None:
    base, tokens = live_server
    context = browser.new_context(
        java_script_enabled=False, locale="nl-NL", viewport={"width": 1366, "height": 860}
    )
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.fill("#token", tokens["broker-bas"])
        page.click("form[action='/login'] button")
        page.wait_for_url(f"{base}/pipeline")
        assert page.locator("html").get_attribute("lang") == "nl"
        screenshot(page, "design-pipeline-nl")
        page.goto(f"{base}/login")
        screenshot(page, "design-login-nl")
    finally:
        context.close()


def test_in_chromium_focus_is_visible(page: Any, live_server: Live) -> None:
    base, _ = live_server
    page.goto(f"{base}/login")
    page.keyboard.press("Tab")  # the skip link: hidden until focused, then shown
    assert page.evaluate("document.activeElement.className") == "ams-skip-link"
    box = page.locator(".ams-skip-link").bounding_box()
    assert box is not None
    assert box["width"] > 50
    assert box["height"] > 20
    width, style = _outline(page)
    assert width >= 2
    assert style == "solid"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") in {"sso", "token"}
    width, style = _outline(page)
    assert width >= 2
    assert style == "solid"


def test_after_a_form_the_language_switch_leads_to_a_page_that_can_be_asked_for(api: Api) -> None:
    page = api.client.post("/login", data={"token": "nope", "csrf_token": "stale"})
    assert page.status_code == 403
    english = _frame(page.text).first("a", hreflang="en")
    assert english["href"] == "/login?lang=en"
    assert api.client.get(english["href"]).status_code == 200


def test_in_chromium_a_printed_page_is_a_document(browser: Any, live_server: Live) -> None:
    base, tokens = live_server
    context = browser.new_context(locale="nl-NL", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.fill("#token", tokens["broker-bas"])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/pipeline*")
        page.emulate_media(media="print")
        for hidden in (".kl-header", ".kl-bar", ".ams-skip-link", "form"):
            assert not page.locator(hidden).first.is_visible(), hidden
        line = page.locator(".kl-print-header")
        assert line.is_visible()
        assert re.fullmatch(
            r"Kringloop · Pijplijn · afgedrukt op \d{1,2} \w+ \d{4}", line.inner_text()
        )
        after = page.evaluate(
            "getComputedStyle(document.querySelector('main p a[href]'), '::after').content"
        )
        assert after.startswith('" (/')  # the link's target written out
        assert page.locator(".kl-details li").first.is_visible()  # folded lists print unfolded
        row = page.evaluate("getComputedStyle(document.querySelector('tbody tr')).breakInside")
        assert row == "avoid"
        assert page.pdf(format="A4")[:4] == b"%PDF"
    finally:
        context.close()
