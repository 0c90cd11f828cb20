"""No untranslated text: every page (tests/web/every_page.py), rendered in the pseudo-locale
(``?lang=qps``, where every translated string, glossary word and formatted figure comes out
marked ⟦…⟧), shows no visible text outside the marks, except record data inside an element
with ``translate="no"`` (names, titles, ids, what a person typed).

Not checked: <script>, <style>, elements hidden from everyone (``hidden``) or from assistive
technology (``aria-hidden="true"``), and text without letters (punctuation, digits, symbols).
The texts a person hears without seeing them (aria-label, title, placeholder, alt, a button's
value, the page's <title>) may mix marked text with record data: each of their unmarked words
must appear in the page's ``translate="no"`` texts (the initiative's title in its <title>)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.api.app import create_app
from adapters.settings import Settings
from tests.api.conftest import Api
from tests.web.every_page import PUBLIC, pages_of, unreached, with_lang
from tests.web.test_pages import logged_in

OPEN, CLOSE = "⟦", "⟧"
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
SILENT = {"script", "style", "template"}
HEARD = ("aria-label", "aria-description", "title", "placeholder", "alt")
ROLES = {"stranger": None, "broker": "broker-bas", "manager": "board-secretariat",
         "auditor": "audrey"}  # fmt: skip
WORD = re.compile(r"[^\W\d_]+(?:[-'\u2019][^\W\d_]+)*")  # a word; hyphens, apostrophes


@dataclass
class Texts(HTMLParser):
    """The page's texts in document order, each with whether it is to be translated."""

    shown: list[tuple[str, bool]] = field(default_factory=list)  # (text, checked)
    heard: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    kept: list[str] = field(default_factory=list)  # texts inside translate="no"
    _open: list[tuple[str, bool, bool]] = field(default_factory=list)  # tag, excluded, kept

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def _state(self) -> tuple[bool, bool]:
        return (self._open[-1][1], self._open[-1][2]) if self._open else (False, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        excluded, kept = self._state()
        kept = kept or found.get("translate", "").lower() == "no"
        excluded = (
            excluded
            or kept
            or tag in SILENT
            or "hidden" in found
            or found.get("aria-hidden", "").lower() == "true"
        )
        if not excluded:
            for name in HEARD:
                if found.get(name, "").strip():
                    self.heard.append((f"<{tag} {name}>", found[name]))
            if tag == "input" and found.get("type") in ("submit", "button", "reset"):
                self.heard.append((f"<{tag} value>", found.get("value", "")))
        if tag not in VOID:
            self._open.append((tag, excluded, kept))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        for at in range(len(self._open) - 1, -1, -1):
            if self._open[at][0] == tag:
                del self._open[at:]
                return

    def handle_data(self, data: str) -> None:
        excluded, kept = self._state()
        if self._open and self._open[-1][0] == "title":
            self.heard.append(("<title>", data))
            return
        if kept:
            self.kept.append(data)
        self.shown.append((data, not excluded))


def unmarked_shown(texts: Texts) -> list[str]:
    """The checked texts with letters outside ⟦…⟧; a mark may span several text nodes
    (a translated sentence with a link inside)."""
    depth, found = 0, []
    for text, checked in texts.shown:
        outside = []
        for ch in text:
            if ch == OPEN:
                depth += 1
            elif ch == CLOSE:
                depth = max(depth - 1, 0)
            elif depth == 0:
                outside.append(ch)
        if checked and any(ch.isalpha() for ch in outside):
            found.append(" ".join(text.split()))
    return found


def outside_marks(text: str) -> str:
    while True:
        stripped = re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
        if stripped == text:
            return text
        text = stripped


def unmarked_heard(texts: Texts) -> list[str]:
    record_words = {w.lower() for kept in texts.kept for w in WORD.findall(kept)}
    return [
        f"{where} {text.strip()!r}"
        for where, text in texts.heard
        if any(w.lower() not in record_words for w in WORD.findall(outside_marks(text)))
    ]


def untranslated(html: str) -> list[str]:
    texts = Texts()
    texts.feed(html)
    texts.close()
    return list(dict.fromkeys(unmarked_shown(texts) + unmarked_heard(texts)))


def test_the_checker_finds_unmarked_text() -> None:
    page = (
        "<html><head><title>⟦Pipeline⟧ · Kringloop</title><style>p{}</style></head><body>"
        '<a href="/" translate="no"><span>Kringloop</span></a>'
        "<h1>⟦Initiative⟧ <small translate=no>timber-reuse</small></h1>"
        "<p>⟦Read the <a href=/x>statement</a> first⟧. 3 %</p>"
        '<p aria-hidden="true">*</p><p hidden>Hidden</p><script>var x = "js";</script>'
        '<p>Forgotten<br>text</p><input placeholder="Type here"><img alt="⟦Chart⟧">'
        '<button aria-label="Close timber-reuse">&times;</button>'
        "</body></html>"
    )
    assert untranslated(page) == [
        "Forgotten",
        "text",
        "<input placeholder> 'Type here'",
        "<button aria-label> 'Close timber-reuse'",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_translated(loaded_home: tuple[Path, dict[str, str]], role: str) -> None:
    home, tokens = loaded_home
    with TestClient(create_app(Settings(home=home)), raise_server_exceptions=False) as client:
        problems = untranslated_pages(Api(client, tokens, home), ROLES[role])
    assert not problems, f"untranslated on the pages of a {role}:\n" + "\n".join(problems)


def untranslated_pages(api: Api, user: str | None) -> list[str]:
    client = api.client
    if user is None:
        pages = PUBLIC
    else:
        logged_in(api, user)

        def fetch(path: str) -> tuple[str, str]:
            response = client.get(path)
            return response.url.path, response.text

        pages = pages_of(fetch)
    problems = [f"no link leads to a page of kind {kind}" for kind in unreached(pages)]
    if user is None:
        problems = []
    for _name, path in pages:
        response = client.get(with_lang(path, "qps"))
        if response.status_code != 200:
            problems.append(f"{path}: HTTP {response.status_code}")
            continue
        problems.extend(f"{path}: {text}" for text in untranslated(response.text))
    return problems
