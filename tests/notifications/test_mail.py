"""Notices as e-mail: each kind rendered in Dutch and English (dates the Dutch way, every word
through the catalogues, the HTML escaped), and sent through a real SMTP server that requires
STARTTLS and a login (tests.smtp): what arrives, what a failure says, and a retry arriving as
the same message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import UndefinedError
from pydantic import SecretStr

from adapters.notifications.mail import (
    KINDS,
    DeliveryFailed,
    Mail,
    message_id_for,
    render,
    send,
)
from tests.smtp import TestSMTP, running_smtp, start_smtp

LINK = "https://kringloop.example/initiatives/grass?view=state&tab=1"
PROGRAMME_LINK = "https://kringloop.example/programmes/friesland"
COMMON = {"recipient": "Anne de Vries", "programme": "Circulair Friesland"}
INITIATIVE = {"initiative_id": "grass", "title": "Grasvezel uit bermmaaisel", "link": LINK}

CONTEXTS: dict[str, dict[str, Any]] = {
    "overdue-precondition": {
        **INITIATIVE,
        "precondition": "Vergunning voor de vergister",
        "due": date(2026, 11, 30),
    },
    "stalled": {**INITIATIVE, "since": date(2026, 11, 30)},
    "scale-up-assessed": {
        **INITIATIVE,
        "outcome": "at-risk",
        "risks": ["te weinig aanvoer in de winter", "geen afnemer voor de vezel"],
    },
    "consortium-formed": {
        **INITIATIVE,
        "members": {"GrassFibre BV": "lead", "Gemeente Leeuwarden": "municipality"},
        "formed_on": date(2026, 11, 30),
    },
    "board-withdrawn": {
        **INITIATIVE,
        "handover_note": "Het consortium neemt de subsidieaanvraag over.",
    },
    "weekly-digest": {
        "week": "2026-W49",
        "moved": [
            {
                "initiative_id": "grass",
                "title": "Grasvezel uit bermmaaisel",
                "stage": "expert_scan",
            }
        ],
        "overdue": [{"initiative_id": "mattress", "title": "Matrassen", "what": "financiering"}],
        "at_risk": [{"initiative_id": "glass", "title": "Vlakglas"}],
        "link": PROGRAMME_LINK,
    },
}

# Per kind: a subject and a sentence of the body, in Dutch and in English.
EXPECTED: dict[str, dict[str, tuple[str, str]]] = {
    "overdue-precondition": {
        "nl": (
            "Randvoorwaarde over tijd: Grasvezel uit bermmaaisel",
            "had op 30 november 2026 vervuld moeten zijn",
        ),
        "en": (
            "Precondition overdue: Grasvezel uit bermmaaisel",
            "was due on 30 November 2026",
        ),
    },
    "stalled": {
        "nl": (
            "Initiatief stilgevallen: Grasvezel uit bermmaaisel",
            "is sinds 30 november 2026 stilgevallen",
        ),
        "en": (
            "Initiative stalled: Grasvezel uit bermmaaisel",
            "has stalled since 30 November 2026",
        ),
    },
    "scale-up-assessed": {
        "nl": ("Opschalen loopt risico: Grasvezel uit bermmaaisel", "De gevonden risico's:"),
        "en": ("Scaling up at risk: Grasvezel uit bermmaaisel", "The risks found:"),
    },
    "consortium-formed": {
        "nl": (
            "Consortium gevormd: Grasvezel uit bermmaaisel",
            "GrassFibre BV, als trekkende ondernemer",
        ),
        "en": (
            "Consortium formed: Grasvezel uit bermmaaisel",
            "GrassFibre BV, as lead entrepreneur",
        ),
    },
    "board-withdrawn": {
        "nl": (
            "Board teruggetrokken: Grasvezel uit bermmaaisel",
            "het consortium zet het zelf voort",
        ),
        "en": (
            "Board withdrawn: Grasvezel uit bermmaaisel",
            "the consortium carries it on by itself",
        ),
    },
    "weekly-digest": {
        "nl": (
            "Week 49 van 2026: Circulair Friesland",
            "Grasvezel uit bermmaaisel: nu expertonderzoek",
        ),
        "en": (
            "Week 49 of 2026: Circulair Friesland",
            "Grasvezel uit bermmaaisel: now expert scan",
        ),
    },
}

GREETING = {"nl": "Beste Anne de Vries,", "en": "Dear Anne de Vries,"}
OPEN = {
    "nl": ("Open het initiatief in Kringloop", "Open het programma in Kringloop"),
    "en": ("Open the initiative in Kringloop", "Open the programme in Kringloop"),
}


def mail_of(kind: str, language: str, **changes: Any) -> Mail:
    context = {**COMMON, "language": language, **CONTEXTS[kind], **changes}
    return render(kind, language, context, "anne@gemeente.example", message_id_for(kind))


# -- rendering ---------------------------------------------------------------------------


def test_the_message_id_is_made_from_the_key_alone() -> None:
    # SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    # (the FIPS 180-2 test vector); the id keeps its first 32 hex digits.
    assert message_id_for("abc") == "<ba7816bf8f01cfea414140de5dae2223@kringloop.local>"
    assert message_id_for("abc", "kringloop.gemeente.nl") == (
        "<ba7816bf8f01cfea414140de5dae2223@kringloop.gemeente.nl>"
    )
    assert message_id_for("stalled:abc:3") != message_id_for("stalled:abc:4")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_names_its_subject_says_what_is_needed_and_links_to_it(
    kind: str, language: str
) -> None:
    mail = mail_of(kind, language)
    subject, sentence = EXPECTED[kind][language]
    link = PROGRAMME_LINK if kind == "weekly-digest" else LINK
    opens = OPEN[language][1 if kind == "weekly-digest" else 0]

    assert mail.subject == subject
    assert mail.to == "anne@gemeente.example"
    assert mail.message_id == message_id_for(kind)
    for part in (mail.text, mail.html):
        assert GREETING[language] in part
        assert sentence in part
        assert opens in part
    assert link in mail.text
    assert f'href="{link.replace("&", "&amp;")}"' in mail.html
    assert f'<html lang="{language}">' in mail.html
    assert f"<title>{subject}</title>" in mail.html


@pytest.mark.parametrize("kind", KINDS)
def test_every_word_of_a_mail_passes_through_the_translator(kind: str) -> None:
    """In the pseudo-locale every translated word and formatted date comes out marked ⟦…⟧:
    what is left of the text without the marks and the context's own values is
    punctuation, so no sentence of a template escapes the catalogues."""
    mail = mail_of(kind, "qps")
    rest = mail.text + "\n" + mail.subject
    while re.search(r"⟦[^⟦⟧]*⟧", rest):
        rest = re.sub(r"⟦[^⟦⟧]*⟧", "", rest)
    for value in _strings(CONTEXTS[kind]):
        rest = rest.replace(value, "")
    assert re.fullmatch(r"[\s:\-]*", rest), rest


def _strings(value: Any) -> Iterator[str]:
    """Every string in a context, longest first (so that no shorter one cuts into it)."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                walk(key)
                walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)

    walk(value)
    return iter(sorted(found, key=len, reverse=True))


@pytest.mark.parametrize("kind", KINDS)
def test_the_html_escapes_what_people_typed_and_the_text_keeps_it(kind: str) -> None:
    hostile = 'Gras <script>alert("x")</script> & co'
    changes: dict[str, Any] = {"title": hostile}
    if kind == "weekly-digest":
        changes = {"at_risk": [{"initiative_id": "grass", "title": hostile}]}
    mail = mail_of(kind, "nl", **changes)

    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in mail.html
    assert hostile in mail.text


def test_a_title_with_a_line_break_makes_a_one_line_subject() -> None:
    mail = mail_of("stalled", "nl", title="Grasvezel\r\nBcc: iedereen@example.org")
    assert mail.subject == "Initiatief stilgevallen: Grasvezel Bcc: iedereen@example.org"


def test_a_stall_without_a_date_says_so_without_one() -> None:
    mail = mail_of("stalled", "nl", since=None)
    assert "Het initiatief Grasvezel uit bermmaaisel is stilgevallen." in mail.text
    assert "sinds" not in mail.text


def test_a_scale_up_found_ready_asks_for_the_next_step() -> None:
    mail = mail_of("scale-up-assessed", "nl", outcome="ready", risks=[])
    assert mail.subject == "Klaar om op te schalen: Grasvezel uit bermmaaisel"
    assert "het is klaar om op te schalen" in mail.text
    assert "Wilt u de volgende stap met het consortium plannen?" in mail.text
    assert "risico" not in mail.text


def test_one_risk_is_counted_as_one() -> None:
    mail = mail_of("scale-up-assessed", "nl", risks=["geen afnemer voor de vezel"])
    assert "Het gevonden risico:\n- geen afnemer voor de vezel\n" in mail.text
    assert "<li>geen afnemer voor de vezel</li>" in mail.html


def test_a_quiet_week_says_it_was_quiet() -> None:
    mail = mail_of("weekly-digest", "nl", moved=[], overdue=[], at_risk=[])
    assert "Een rustige week" in mail.text
    assert "Over tijd" not in mail.text


def test_the_digest_lists_what_is_overdue_and_at_risk() -> None:
    mail = mail_of("weekly-digest", "nl")
    assert "Over tijd:\n- Matrassen: financiering\n" in mail.text
    assert "Risico:\n- Vlakglas\n" in mail.text


def test_a_context_without_a_key_its_template_needs_is_refused() -> None:
    context = {**COMMON, "language": "nl", **CONTEXTS["stalled"]}
    del context["title"]
    with pytest.raises(UndefinedError):
        render("stalled", "nl", context, "anne@gemeente.example", "<x@kringloop.local>")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no mail template"):
        render("birthday", "nl", dict(COMMON), "anne@gemeente.example", "<x@kringloop.local>")


# -- sending through a real SMTP server ----------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[TestSMTP]:
    with running_smtp(tmp_path / "smtp") as server:
        yield server


def settings_for(server: TestSMTP, **changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "smtp_starttls": True,
        "smtp_user": server.user,
        "smtp_password": SecretStr(server.password),
        "smtp_password_file": None,
        "smtp_from": "Kringloop <kringloop@provincie.example>",
        "smtp_ca_file": server.ca_file,
    }
    return SimpleNamespace(**{**values, **changes})


def test_a_mail_arrives_over_starttls_and_login_with_both_parts(smtp: TestSMTP) -> None:
    mail = mail_of("overdue-precondition", "nl")
    send(mail, settings_for(smtp))

    [received] = smtp.received
    assert received["To"] == "anne@gemeente.example"
    assert received["From"] == "Kringloop <kringloop@provincie.example>"
    assert received["Subject"] == mail.subject
    assert received["Message-ID"] == mail.message_id
    assert received["Date"]
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.get_body(("plain",)), received.get_body(("html",))
    assert text is not None
    assert html is not None
    # Text travels in its canonical form, lines ending CRLF (RFC 2046 section 4.1.1).
    assert text.get_content().replace("\r\n", "\n") == mail.text
    assert html.get_content().replace("\r\n", "\n") == mail.html


def test_the_same_mail_sent_twice_arrives_as_one_message_twice(smtp: TestSMTP) -> None:
    """A retry after an unclear failure sends the mail again: the receiver gets it with the
    same Message-ID, by which mail clients and archives know it for the same message."""
    mail = mail_of("stalled", "en")
    send(mail, settings_for(smtp))
    send(mail, settings_for(smtp))

    assert [m["Message-ID"] for m in smtp.received] == [mail.message_id, mail.message_id]
    assert smtp.received[0].get_body(("plain",)).get_content() == (  # type: ignore[union-attr]
        smtp.received[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    )


def test_the_password_file_wins_over_the_password(smtp: TestSMTP, tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text(smtp.password + "\n", encoding="utf-8")
    send(
        mail_of("stalled", "nl"),
        settings_for(smtp, smtp_password=SecretStr("not-the-password"), smtp_password_file=secret),
    )
    assert len(smtp.received) == 1


def test_a_wrong_password_fails_without_saying_the_password(smtp: TestSMTP) -> None:
    wrong = "Wr0ng-but-s3cret"
    with pytest.raises(DeliveryFailed) as failed:
        send(mail_of("stalled", "nl"), settings_for(smtp, smtp_password=SecretStr(wrong)))

    said = str(failed.value)
    assert "refused the login of 'kringloop-test'" in said
    assert "535" in said
    assert wrong not in said
    assert smtp.password not in said
    assert failed.value.permanent
    assert smtp.received == []


def test_a_server_that_is_down_fails_to_deliver(tmp_path: Path) -> None:
    server = start_smtp(tmp_path / "smtp")
    server.stop()
    with pytest.raises(DeliveryFailed, match="could not reach the SMTP server") as failed:
        send(mail_of("stalled", "nl"), settings_for(server))
    assert not failed.value.permanent


def test_a_certificate_the_client_does_not_trust_fails_the_tls(smtp: TestSMTP) -> None:
    with pytest.raises(DeliveryFailed, match=r"TLS with the SMTP server .* failed") as failed:
        send(mail_of("stalled", "nl"), settings_for(smtp, smtp_ca_file=None))
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert smtp.received == []


def test_a_refused_recipient_fails_for_good(smtp: TestSMTP) -> None:
    mail = render(
        "stalled",
        "nl",
        {**COMMON, "language": "nl", **CONTEXTS["stalled"]},
        "iemand@nowhere.invalid",
        message_id_for("stalled:refused"),
    )
    with pytest.raises(DeliveryFailed, match="refused the recipient") as failed:
        send(mail, settings_for(smtp))
    assert "550" in str(failed.value)
    assert failed.value.permanent
    assert smtp.received == []


def test_without_a_login_the_server_refuses_the_message(smtp: TestSMTP) -> None:
    with pytest.raises(DeliveryFailed, match="530"):
        send(mail_of("stalled", "nl"), settings_for(smtp, smtp_user=None))
    assert smtp.received == []


def test_without_an_smtp_host_nothing_is_tried() -> None:
    with pytest.raises(DeliveryFailed, match="no SMTP server is set"):
        send(mail_of("stalled", "nl"), SimpleNamespace())
