"""The notifications page (issue 19): a user saves what they want to hear and where, in
Dutch (English on request), a field that does not check out refused beside it with what
was typed kept; a manager sees the messages sent, filtered by status, and puts a failed one
back in the queue; a broker sees no messages and may not retry one. In Chromium: the form
filled and saved with the keyboard only, and no axe-core WCAG 2.1 A/AA violation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from adapters.notifications import store
from adapters.settings import Settings
from adapters.store import open_read_store
from domain.notices import KINDS
from tests.api.conftest import Api
from tests.web.every_page import axe_violations
from tests.web.test_pages import csrf_of, logged_in
from tests.web.test_programme_pages import inner, words

Live = tuple[str, dict[str, str]]
BROKER, MANAGER = "broker-bas", "board-secretariat"
FAILED, SENT = "0f" * 16, "5e" * 16


def reads(api: Api) -> Engine:
    engine: Engine = api.client.app.state.backend.read_store.engine  # type: ignore[attr-defined]
    store.create_tables(engine)
    return engine


def add_messages(engine: Engine) -> None:
    """Two messages as the delivery leaves them: one sent, one failed after three tries."""
    created = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)  # 09:15 in Amsterdam
    common: dict[str, Any] = {"record": "ab" * 16, "language": "nl", "data": "{}"}
    with Session(engine) as db:
        db.add(
            store.MessageRow(
                id=FAILED,
                notice_key="stalled:x:1",
                kind="stalled",
                recipient=BROKER,
                channel="email",
                address="bas@example.nl",
                status="failed",
                attempts=3,
                next_attempt_at=created + timedelta(hours=1),
                last_error="550 mailbox unavailable",
                created_at=created,
                **common,
            )
        )
        db.add(
            store.MessageRow(
                id=SENT,
                notice_key="consortium-formed:y:4",
                kind="consortium-formed",
                recipient="broker-anna",
                channel="webhook",
                address="https://hooks.example.nl/anna",
                status="sent",
                attempts=1,
                next_attempt_at=created,
                created_at=created - timedelta(days=1),
                sent_at=created - timedelta(days=1),
                **common,
            )
        )
        db.commit()


def field_value(html: str, name: str) -> str:
    found = re.search(rf'<input\b[^>]*\bname="{name}"[^>]*\bvalue="([^"]*)"', html)
    assert found is not None, name
    return found.group(1)


def checked(html: str, name: str) -> list[str]:
    """The values of the checked boxes (or radio button) named ``name``."""
    return re.findall(rf'<input\b[^>]*\bname="{name}" value="([^"]+)" checked', html)


def status_message(html: str) -> str:
    found = re.search(r'role="status"[^>]*>(.*?)</div>\s*</div>', html, re.S)
    assert found is not None, "no role=status"
    return words(found.group(1))


def save(api: Api, **fields: Any) -> Any:
    csrf = csrf_of(api.client.get("/notifications").text)
    return api.client.post("/notifications/mine", data={"csrf_token": csrf, **fields})


# -- my notifications ------------------------------------------------------------------------


def test_a_broker_saves_their_notifications_in_dutch(api: Api) -> None:
    logged_in(api, BROKER)
    empty = api.client.get("/notifications")
    assert empty.status_code == 200
    assert "Mijn meldingen" in empty.text
    assert checked(empty.text, "kinds") == list(KINDS)  # nothing saved yet: every kind
    assert checked(empty.text, "language") == ["nl"]

    response = save(
        api,
        email=" bas@example.nl ",
        webhook_url="https://hooks.example.nl/kringloop?team=bouw",
        kinds=["stalled", "overdue-precondition"],
        delivery="digest",
        language="en",
    )

    assert response.status_code == 200
    assert response.url.path == "/notifications"
    page = response.text
    assert status_message(page) == "Uw instellingen voor meldingen zijn opgeslagen."
    assert field_value(page, "email") == "bas@example.nl"
    assert field_value(page, "webhook_url") == "https://hooks.example.nl/kringloop?team=bouw"
    assert checked(page, "kinds") == ["overdue-precondition", "stalled"]
    assert checked(page, "delivery") == ["digest"]
    assert checked(page, "language") == ["en"]
    row = store.subscription(reads(api), BROKER)
    assert row is not None
    assert (row.email, row.webhook_url) == (
        "bas@example.nl",
        "https://hooks.example.nl/kringloop?team=bouw",
    )
    assert (row.kinds, row.digest, row.language, row.updated_by) == (
        "overdue-precondition,stalled",
        True,
        "en",
        BROKER,
    )
    assert row.wants("stalled") is False  # the digest only
    assert row.wants("weekly-digest") is True


def test_every_kind_ticked_is_stored_as_every_kind(api: Api) -> None:
    logged_in(api, BROKER)
    save(api, email="bas@example.nl", kinds=list(KINDS), delivery="immediate", language="nl")
    row = store.subscription(reads(api), BROKER)
    assert row is not None
    assert (row.kinds, row.digest, row.webhook_url) == ("*", False, None)


def test_an_invalid_email_is_refused_in_dutch_beside_the_field(api: Api) -> None:
    logged_in(api, BROKER)
    response = save(
        api,
        email="bas@voorbeeld",
        webhook_url="https://hooks.example.nl/k",
        kinds=["stalled"],
        delivery="immediate",
        language="nl",
    )

    assert response.status_code == 422
    page = response.text
    message = "Vul een e-mailadres in zoals naam@voorbeeld.nl, of laat het veld leeg."
    assert words(inner(page, "p", "id", "mine-email-error")) == f"Invoerfout: {message}"
    summary = page.split('id="mine-errors"')[1].split("</ul>")[0]  # role=alert, at the top
    assert f'<a class="ams-link" href="#mine-email">{message}</a>' in summary
    field = re.search(r'<input\b[^>]*\bid="mine-email"[^>]*>', page)
    assert field is not None
    assert 'aria-describedby="mine-email-hint mine-email-error"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert field_value(page, "email") == "bas@voorbeeld"  # as typed
    assert field_value(page, "webhook_url") == "https://hooks.example.nl/k"
    assert checked(page, "kinds") == ["stalled"]
    assert "mine-webhook_url-error" not in page
    assert store.subscription(reads(api), BROKER) is None


def test_a_webhook_url_that_is_no_web_address_is_refused(api: Api) -> None:
    logged_in(api, BROKER)
    response = save(api, webhook_url="ftp://hooks.example.nl/k", delivery="immediate")
    assert response.status_code == 422
    assert words(inner(response.text, "p", "id", "mine-webhook_url-error")) == (
        "Invoerfout: Vul een webadres in dat begint met https:// of http://, of laat het veld leeg."
    )
    assert store.subscription(reads(api), BROKER) is None


def test_a_form_without_its_csrf_token_saves_nothing(api: Api) -> None:
    logged_in(api, BROKER)
    response = api.client.post("/notifications/mine", data={"email": "bas@example.nl"})
    assert response.status_code == 403
    assert store.subscription(reads(api), BROKER) is None


# -- notifications sent ----------------------------------------------------------------------


def test_a_manager_sees_a_failed_message_and_retries_it(api: Api) -> None:
    add_messages(reads(api))
    logged_in(api, MANAGER)
    page = api.client.get("/notifications").text
    table = inner(page, "table", "id", "sent-messages")
    assert "<caption" in table
    assert 'scope="col"' in table
    assert 'scope="row"' in table
    failed = inner(page, "tr", "data-message", FAILED)
    assert words(failed) == (
        "30 november 2026 09:15 Initiatief stilgevallen broker-bas e-mail: bas@example.nl "
        "mislukt Opnieuw proberen: broker-bas, Initiatief stilgevallen, 30 november 2026 09:15, "
        "0f0f0f0f 3 550 mailbox unavailable"
    )
    sent = inner(page, "tr", "data-message", SENT)
    assert "verzonden" in words(sent)
    assert "Opnieuw proberen" not in sent

    only_failed = api.client.get("/notifications?status=failed").text
    assert f'data-message="{FAILED}"' in only_failed
    assert f'data-message="{SENT}"' not in only_failed

    response = api.client.post(
        f"/notifications/{FAILED}/retry",
        data={"csrf_token": csrf_of(only_failed), "shown": "failed"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/notifications?status=failed&retried={FAILED}#sent"
    after = api.client.get(response.headers["location"]).text
    assert status_message(after) == (
        "Het bericht aan broker-bas staat weer in de wachtrij: "
        "de volgende verzending probeert het opnieuw."
    )
    row = store.messages(reads(api), "pending")
    assert [m.id for m in row] == [FAILED]
    assert f'data-message="{FAILED}"' not in after  # no longer failed


def test_a_broker_sees_only_their_own_messages_and_may_not_retry(api: Api) -> None:
    add_messages(reads(api))
    logged_in(api, BROKER)
    page = api.client.get("/notifications").text
    assert 'id="sent"' not in page
    assert "Verzonden meldingen" not in page
    assert "550 mailbox unavailable" not in page
    own = inner(page, "table", "id", "received-messages")
    assert f'data-message="{FAILED}"' in own
    assert SENT not in page, "not someone else's"
    assert "Uw berichten" in page
    assert "mislukt" in words(own)

    response = api.client.post(f"/notifications/{FAILED}/retry", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 403
    assert (
        "Uw rol (transitiemakelaar) mag verzonden meldingen niet inzien of opnieuw versturen."
        in words(response.text)
    )
    assert [m.id for m in store.messages(reads(api), "failed")] == [FAILED]


def test_retrying_an_unknown_message_is_not_found(api: Api) -> None:
    logged_in(api, MANAGER)
    csrf = csrf_of(api.client.get("/notifications").text)
    response = api.client.post("/notifications/nope/retry", data={"csrf_token": csrf})
    assert response.status_code == 404


def test_a_manager_sets_someone_elses_notifications(api: Api) -> None:
    logged_in(api, MANAGER)
    chosen = api.client.get("/notifications?for=broker-bas").text
    assert words(inner(chosen, "h3", "id", "for-whom")) == "broker-bas"
    response = api.client.post(
        "/notifications/for",
        data={
            "csrf_token": csrf_of(chosen),
            "identity": "broker-bas",
            "email": "bas@gemeente.example",
            "kinds": ["consortium-formed", "board-withdrawn"],
            "delivery": "immediate",
            "language": "en",
        },
    )
    assert response.status_code == 200
    assert status_message(response.text) == (
        "De instellingen voor meldingen van broker-bas zijn opgeslagen."
    )
    theirs = response.text.split('id="for-form"')[1]
    assert field_value(theirs, "email") == "bas@gemeente.example"
    assert checked(theirs, "kinds") == ["consortium-formed", "board-withdrawn"]
    row = store.subscription(reads(api), "broker-bas")
    assert row is not None
    assert (row.email, row.kinds, row.language, row.updated_by) == (
        "bas@gemeente.example",
        "consortium-formed,board-withdrawn",
        "en",
        MANAGER,
    )


def test_a_manager_cannot_set_notifications_for_someone_not_in_the_register(api: Api) -> None:
    logged_in(api, MANAGER)
    chosen = api.client.get("/notifications?for=nobody-at-all")
    assert chosen.status_code == 404
    assert "nobody-at-all staat niet in het bevoegdhedenregister" in words(chosen.text)
    assert 'id="for-whom"' not in chosen.text
    response = api.client.post(
        "/notifications/for",
        data={"csrf_token": csrf_of(chosen.text), "identity": "nobody-at-all", "email": "n@x.nl"},
    )
    assert response.status_code == 404
    assert store.subscription(reads(api), "nobody-at-all") is None


def test_a_broker_may_not_set_someone_elses_notifications(api: Api) -> None:
    logged_in(api, BROKER)
    page = api.client.get("/notifications?for=broker-anna").text
    assert 'id="for"' not in page
    response = api.client.post(
        "/notifications/for",
        data={"csrf_token": csrf_of(page), "identity": "broker-anna", "email": "x@example.nl"},
    )
    assert response.status_code == 403
    assert "Uw rol (transitiemakelaar) mag de meldingen van een ander niet instellen." in (
        words(response.text)
    )
    assert store.subscription(reads(api), "broker-anna") is None


# -- English ---------------------------------------------------------------------------------


def test_the_page_in_english(api: Api) -> None:
    add_messages(reads(api))
    logged_in(api, MANAGER)
    page = api.client.get("/notifications?lang=en").text
    assert '<html lang="en">' in page
    assert "My notifications" in page
    assert "Notifications sent" in page
    assert "Only the weekly digest" in page
    assert words(inner(page, "tr", "data-message", FAILED)) == (
        "30 November 2026 09:15 Initiative stalled broker-bas e-mail: bas@example.nl failed "
        "Retry: broker-bas, Initiative stalled, 30 November 2026 09:15, 0f0f0f0f 3 "
        "550 mailbox unavailable"
    )
    refused = save(api, email="not an address", delivery="immediate", language="en")
    assert words(inner(refused.text, "p", "id", "mine-email-error")) == (
        "Input error: Enter an e-mail address such as name@example.nl, or leave the field empty."
    )


# -- in Chromium -----------------------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const shown = (e.labels && e.labels.length && ['checkbox', 'radio'].includes(e.type))
    ? e.labels[0] : e;  // a box's own outline is 0 wide: its label shows the focus
  const s = getComputedStyle(shown);
  return {
    id: e.id, name: e.getAttribute('name') || '', type: e.getAttribute('type') || '',
    tag: e.tagName.toLowerCase(), checked: !!e.checked, form: e.form ? e.form.id : '',
    indicated: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
      || (!!s.boxShadow && s.boxShadow !== 'none'),
  };
}"""


def press(page: Any, key: str) -> dict[str, Any]:
    page.keyboard.press(key)
    focused: dict[str, Any] | None = page.evaluate(FOCUSED)
    assert focused is not None, f"after {key} nothing has focus"
    assert focused["indicated"], f"no visible focus indicator on {focused}"
    return focused


def tab_to(page: Any, element_id: str) -> dict[str, Any]:
    for _ in range(80):
        focused = press(page, "Tab")
        if focused["id"] == element_id:
            return focused
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_broker_saves_with_the_keyboard_only_and_axe_finds_nothing(
    page: Any, live_server: Live, loaded_home: tuple[Path, dict[str, str]]
) -> None:
    from tests.web.test_accessibility import log_in

    base, tokens = live_server
    log_in(page, base, tokens[BROKER])
    page.goto(f"{base}/notifications?lang=nl")

    tab_to(page, "mine-email")
    page.keyboard.type("bas@example.nl")
    tab_to(page, "mine-kind-scale-up-assessed")
    page.keyboard.press("Space")  # untick
    tab_to(page, "mine-delivery-immediate")  # the group's checked button
    page.keyboard.press("ArrowDown")  # moves to, and checks, the digest
    assert page.evaluate(FOCUSED)["id"] == "mine-delivery-digest"
    button = press(page, "Tab")  # the language group
    assert button["name"] == "language"
    button = press(page, "Tab")
    assert (button["tag"], button["type"], button["form"]) == ("button", "submit", "mine-form")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    status = page.locator("[role=status]")
    assert status.inner_text().strip() == "Uw instellingen voor meldingen zijn opgeslagen."
    assert page.locator("#mine-email").input_value() == "bas@example.nl"
    assert not page.locator("#mine-kind-scale-up-assessed").is_checked()
    assert page.locator("#mine-delivery-digest").is_checked()
    stored = open_read_store(Settings(home=loaded_home[0]))
    row = store.subscription(stored.engine, BROKER)
    stored.close()
    assert row is not None
    assert (row.email, row.digest) == ("bas@example.nl", True)
    assert row.kinds == ",".join(k for k in KINDS if k != "scale-up-assessed")
    assert not axe_violations(page), axe_violations(page)
