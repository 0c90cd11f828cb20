"""Keyboard only (WCAG 2.1.1, 2.4.1, 2.4.7, 3.3.1, 4.1.3): a broker logs in, goes from the
pipeline to an initiative, opens a next step's form, fills it in, sends it and reads the
recorded decision, pressing keys only (Tab, Shift+Tab, Enter, typing; no clicks, no fill).

At every stop the focused element must show a visible focus indicator (a computed outline or
box shadow), and on every page the first Tab stop must be the link that skips to the main
content. A refused form must announce its error (role=alert or aria-live) and link it to the
field (aria-invalid, aria-describedby)."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import screenshot
from tests.web.every_page import axe_violations

Live = tuple[str, dict[str, str]]
BROKER = "broker-bas"  # mandate: construction (timber-reuse)
INITIATIVE = "/initiatives/timber-reuse"
STEP = "fulfil-precondition"
REASON = "demolition contracts signed"

# What the keyboard user is on now, and whether it is visibly marked.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = !!s.boxShadow && s.boxShadow !== 'none';
  const box = e.getBoundingClientRect();
  const details = e.tagName === 'SUMMARY' ? e.parentElement : null;
  return {
    tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
    type: e.getAttribute('type') || '', href: e.getAttribute('href') || '',
    text: (e.innerText || e.value || '').trim().slice(0, 60),
    indicated: outline || shadow, shown: box.width > 1 && box.height > 1,
    in_main: !!e.closest('main'),
    form: e.form ? (e.form.dataset.command || '') : '',
    closed_details_with: details && !details.open
      ? Array.from(details.querySelectorAll('a[href]')).map(a => a.getAttribute('href')) : [],
    details_id: details ? details.id : '',
    details_open: details ? details.open : null,
  };
}"""

SKIP_TARGET = """(href) => {
  const target = document.getElementById(href.slice(1));
  return !!target && (target.tagName === 'MAIN' || !!target.querySelector('main')
    || !!target.closest('main'));
}"""


def press(page: Any, key: str) -> dict[str, Any]:
    """Press ``key``; the element that has focus now, which must be visibly marked."""
    page.keyboard.press(key)
    focused: dict[str, Any] | None = page.evaluate(FOCUSED)
    assert focused is not None, f"after {key} on {page.url} nothing has focus"
    assert focused["indicated"], f"no visible focus indicator on {focused} ({page.url})"
    assert focused["shown"], f"the focused element is not shown: {focused} ({page.url})"
    return focused


def tab_to(page: Any, wanted: Any, what: str, open_on_the_way: str = "", limit: int = 400) -> None:
    """Tab until ``wanted(focused)``; a closed <details> whose links include
    ``open_on_the_way`` is opened with Enter on its summary (e.g. a folded sub-stream)."""
    focused = page.evaluate(FOCUSED)
    if focused is not None and wanted(focused):
        return  # there already
    for _ in range(limit):
        focused = press(page, "Tab")
        if wanted(focused):
            return
        if open_on_the_way and any(
            href.endswith(open_on_the_way) for href in focused["closed_details_with"]
        ):
            page.keyboard.press("Enter")
    raise AssertionError(f"{limit} Tabs on {page.url} never reached {what}")


def skip_link_comes_first(page: Any) -> None:
    """The first Tab stop skips to the main content; Enter on it moves there."""
    first = press(page, "Tab")
    not_skip = f"the first Tab stop on {page.url} is {first}, not a link to skip to the content"
    assert first["tag"] == "a", not_skip
    assert first["href"].startswith("#"), not_skip
    assert page.evaluate(SKIP_TARGET, first["href"]), (
        f"the skip link {first['href']} on {page.url} does not lead to <main>"
    )
    page.keyboard.press("Enter")
    focused = press(page, "Tab")
    assert focused["in_main"], f"after the skip link, Tab went to {focused}, outside <main>"


def log_in_by_keyboard(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    skip_link_comes_first(page)
    tab_to(page, lambda f: f["name"] == "token", "the token field")
    page.keyboard.type(token)
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(f"{base}/pipeline*")


def open_step(page: Any, step: str) -> None:
    """Tab to the step's summary and open it, unless the page opened it already."""
    tab_to(page, lambda f: f["details_id"] == f"step-{step}", f"the summary of {step}")
    if not page.evaluate(FOCUSED)["details_open"]:
        page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["details_open"], f"Enter did not open the form of {step}"


def fill_step(page: Any, step: str, values: dict[str, str]) -> None:
    """Tab through the step's form, typing ``values`` into the fields they name, and send it
    with Enter on its button."""
    filled: set[str] = set()
    for _ in range(100):
        focused = press(page, "Tab")
        if focused["form"] != step:
            continue
        if focused["name"] in values and focused["name"] not in filled:
            page.keyboard.type(values[focused["name"]])
            filled.add(focused["name"])
        elif focused["tag"] == "button" and focused["type"] == "submit":
            assert filled == set(values), f"reached the button of {step} before {values}"
            back = press(page, "Shift+Tab")  # back to the last field and forth again
            assert back["form"] == step, f"Shift+Tab from the button of {step} left: {back}"
            assert press(page, "Tab") == focused, "Tab after Shift+Tab missed the button"
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"never reached the button of {step} on {page.url}")


def to_the_initiative(page: Any, base: str, token: str) -> None:
    log_in_by_keyboard(page, base, token)
    skip_link_comes_first(page)
    tab_to(
        page,
        lambda f: f["tag"] == "a" and f["href"].endswith(INITIATIVE),
        f"the link to {INITIATIVE}",
        open_on_the_way=INITIATIVE,
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.split("?")[0] == base + INITIATIVE
    skip_link_comes_first(page)


def test_a_broker_takes_a_step_with_the_keyboard_only(page: Any, live_server: Live) -> None:
    base, tokens = live_server
    to_the_initiative(page, base, tokens[BROKER])
    decisions = page.locator("#timeline > li").count()
    open_step(page, STEP)

    fill_step(
        page,
        STEP,
        {"reason": REASON, "evidence": "contracts-2018.pdf", "precondition": "demolition-volume"},
    )

    assert page.url.split("?")[0].split("#")[0] == base + INITIATIVE
    status = page.locator("[role=status]")
    assert status.count() > 0, "the result is not announced (role=status)"
    assert status.first.is_visible(), "the announcement of the result is hidden"
    assert status.first.inner_text().strip(), "the announcement of the result is empty"
    assert page.locator("#timeline > li").count() == decisions + 1
    assert REASON in page.locator("#timeline > li").last.inner_text()
    screenshot(page, "keyboard-recorded")
    assert not axe_violations(page), axe_violations(page)


def test_a_refused_form_announces_its_error_at_the_field(page: Any, live_server: Live) -> None:
    """Sent without its required precondition: the page says so in an alert, and the field
    is marked invalid and described by the error."""
    base, tokens = live_server
    to_the_initiative(page, base, tokens[BROKER])
    open_step(page, STEP)

    fill_step(page, STEP, {"reason": REASON})

    alert = page.locator("[role=alert], [aria-live=assertive], [aria-live=polite]")
    assert alert.count() > 0, "the refusal is not announced (role=alert or aria-live)"
    assert alert.first.is_visible(), "the announcement of the refusal is hidden"
    announced = " ".join(alert.all_inner_texts())
    assert announced.strip(), "the alert is empty"
    field = page.locator(f"form[data-command='{STEP}'] [name=precondition]")
    assert field.count() == 1, f"the refused form of {STEP} is not shown again with its fields"
    assert field.get_attribute("aria-invalid") == "true", "the refused field is not aria-invalid"
    described = (field.get_attribute("aria-describedby") or "").split()
    messages = [page.locator(f"[id='{d}']").inner_text().strip() for d in described]
    field_id = field.get_attribute("id")
    linked = any(m and m in announced for m in messages) or (
        page.locator(f"[role=alert] a[href='#{field_id}']").count() > 0
    )
    assert any(messages), f"the field's aria-describedby {described} describes nothing"
    assert linked, (
        f"the field's aria-describedby {described} names no error the page announces "
        f"({messages!r} / {announced!r})"
    )
    screenshot(page, "keyboard-refused")
    assert not axe_violations(page), axe_violations(page)
