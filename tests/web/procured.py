"""A data folder for the procurement pages: tests/api's first-steps scenario with the regional
demo's procurement added (three commitments with their spend reports and the organisation
roles of their procurement leads, one community of practice with its meetings and
trajectories: tests/exports' `add_procurement`), and a login for one procurement lead; the
helpers the procurement pages' tests share (log in, open a page, take a decision in a form)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from adapters.accounts.users import Role, add_user
from adapters.settings import Settings
from adapters.store import open_read_store
from tests.api.conftest import load_first_steps
from tests.exports.conftest import add_procurement
from tests.web.test_browser import Live, log_in
from tests.web.test_pages import csrf_of, logged_in

__all__ = [
    "Live",
    "csrf_of",
    "log_in",
    "logged_in",
]  # the pages' tests' login helpers, for these too

MANAGER = "board-secretariat"
LEAD = "landsmeer"  # the scenario grants it the role organisation for Gemeente Landsmeer
OWN = "gemeente-landsmeer"  # its organisation's page
OTHER = "gemeente-ouder-amstel"  # another organisation with a commitment
UNCOMMITTED = "gemeente-amsterdam"  # a member without a commitment
COMMUNITY = "cop-construction"


def procured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    home = tmp_path_factory.mktemp("procured-pages")
    tokens = load_first_steps(home)
    add_procurement(home)
    reads = open_read_store(Settings(home=home))
    # its credentials only, as `kringloop users add` keeps them: the role comes from the
    # authority register, where the scenario granted it (grant-role ... --organisation)
    tokens[LEAD] = add_user(reads.engine, LEAD, Role.ORGANISATION)
    reads.close()
    return home, tokens


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells (header cell included) of the table with that id."""
    table = re.search(rf'<table[^>]*id="{re.escape(table_id)}".*?</table>', html, re.S)
    assert table is not None, table_id
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body is not None
    return [
        [_text(cell) for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body.group(1), re.S)
    ]


def _text(fragment: str) -> str:
    import html as entities

    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def opened(page: Any, live_server: Live, user: str, path: str) -> str:
    """Log ``user`` in in the browser and open ``path`` (in Dutch); the server's address."""
    base, tokens = live_server
    log_in(page, base, tokens[user])
    page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang=nl")
    return base


def decide(page: Any, command: str, fields: dict[str, str], checks: tuple[str, ...] = ()) -> None:
    """Open the command's form, fill it in (and tick the named checkboxes), submit it."""
    details = page.locator(f"#step-{command}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = page.locator(f"form[data-command='{command}']")
    for name, value in fields.items():
        control = form.locator(f"[name='{name}']")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    for label in checks:  # the design system draws the box: a person clicks its label
        box = form.get_by_label(label, exact=True)
        form.locator(f"label[for='{box.get_attribute('id')}']").click()
        assert box.is_checked()
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
