"""Every page a person can reach, for the page-wide checks (axe, the pseudo-locale, the
screenshots): one example of each kind of page, found by following the links from the
pipeline and the navigation as a logged-in user would, not by hard-coded ids.

To add a page: add its Kind to KINDS (and its name to REQUIRED once the navigation links it);
every check that uses ``pages_of`` then visits it in both languages and for every role."""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit


@dataclass(frozen=True)
class Kind:
    name: str  # names the page in reports and screenshots
    path: str  # a regular expression the whole path matches
    prefer: str | None = None  # a page of this kind whose HTML holds this text is preferred


KINDS = [
    Kind("pipeline", r"/pipeline"),
    Kind("initiative", r"/initiatives/[^/]+", prefer="data-command="),  # one with forms
    Kind("programmes", r"/programmes"),  # only when there are several programmes
    Kind("programme", r"/programmes/[^/]+"),
    Kind("roadmap", r"/programmes/[^/]+/roadmap"),
    Kind("organisations", r"/organisations"),
    Kind("organisation", r"/organisations/[^/]+"),
    Kind("communities", r"/communities"),
    Kind("community", r"/communities/[^/]+"),
    Kind("audit", r"/audit"),
    Kind("notifications", r"/notifications"),
    Kind("statement", r"/toegankelijkheid"),
]
# found for every logged-in role, or the navigation lost a link
REQUIRED = {"pipeline", "initiative", "programme", "roadmap", "audit", "notifications", "statement"}
# pages a stranger sees (no login)
PUBLIC = [("login", "/login"), ("statement", "/toegankelijkheid")]
START = "/pipeline"
FETCH_LIMIT = 60  # pages fetched while looking, at most

# fetch(path) -> (the path after redirects, the HTML)
Fetch = Callable[[str], tuple[str, str]]


def kind_of(path: str) -> Kind | None:
    return next((k for k in KINDS if re.fullmatch(k.path, path)), None)


def links(page_path: str, text: str) -> list[str]:
    """The site's own paths this HTML links to (no query, no fragment), in order."""
    found = []
    for href in re.findall(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']+)["']""", text, re.I):
        parts = urlsplit(urljoin(page_path, html.unescape(href)))
        if not parts.scheme and not parts.netloc and parts.path:
            found.append(parts.path)
    return found


def pages_of(fetch: Fetch, start: str = START) -> list[tuple[str, str]]:
    """(kind name, path) of one page of each kind reachable from ``start``, in KINDS' order.
    A kind with ``prefer`` takes the first page whose HTML holds that text, if any does."""
    chosen: dict[str, tuple[str, bool]] = {}
    queue, seen, fetched = deque([start]), {start}, 0

    def settled(kind: Kind) -> bool:
        return kind.name in chosen and (kind.prefer is None or chosen[kind.name][1])

    while queue and fetched < FETCH_LIMIT:
        path, text = fetch(queue.popleft())
        fetched += 1
        kind = kind_of(path)
        if kind is None:
            continue
        if not settled(kind):
            preferred = kind.prefer is not None and kind.prefer in text
            if kind.name not in chosen or preferred:
                chosen[kind.name] = (path, preferred)
        for link in links(path, text):
            target = kind_of(link)
            if link not in seen and target is not None and not settled(target):
                seen.add(link)
                queue.append(link)
    return [(k.name, chosen[k.name][0]) for k in KINDS if k.name in chosen]


def unreached(pages: list[tuple[str, str]]) -> list[str]:
    """The REQUIRED kinds ``pages`` lacks (no link led to one: a lost link or a broken page)."""
    return sorted(REQUIRED - {name for name, _ in pages})


def with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


# -- axe-core (axe-playwright-python ships it) ------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page as it is now, one line each:
    rule id, its help, the offending nodes' targets."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"])
        for v in results.response["violations"]
    ]
