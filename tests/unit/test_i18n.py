"""adapters.i18n: Dutch and English formats, the language negotiated or chosen, the pseudo-locale
that marks every translated text, and refusals rendered from their message id."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from adapters.i18n import choices, cli_language, negotiate, translator
from domain.errors import RuleError, Term
from domain.messages import N_


def test_dutch_formats() -> None:
    t = translator("nl")
    assert t.day(date(2018, 6, 1)) == "1 juni 2018"
    assert t.day("2018-06-01") == "1 juni 2018"
    assert t.moment(datetime(2018, 6, 1, 12, 5, tzinfo=UTC)) == "1 juni 2018 14:05"  # CEST
    assert t.number(150_000_000) == "150.000.000"
    assert t.number(3.14159, digits=2) == "3,14"
    assert t.money(150_000_000) == "€ 150 mln"
    assert t.money(2_500_000_000) == "€ 2,5 mld"
    assert t.money(12_500) == "€ 12.500"
    assert t.percent(35) == "35 %"


def test_english_formats() -> None:
    t = translator("en")
    assert t.day(date(2018, 6, 1)) == "1 June 2018"
    assert t.number(150_000_000) == "150,000,000"
    assert t.money(150_000_000) == "€150m"
    assert t.percent(35) == "35%"


def test_nothing_formats_as_empty() -> None:
    t = translator("nl")
    assert [t.day(None), t.number(None), t.money(None), t.percent(None), t.term("x", None)] == [
        "",
        "",
        "",
        "",
        "",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9,nl;q=0.8", "en"),
        ("de,nl;q=0.5,en;q=0.4", "nl"),
        ("nl-NL", "nl"),
        ("fr, de", "nl"),  # neither: Dutch
        ("en;q=0, nl;q=0.1", "nl"),
        ("", "nl"),
        (None, "nl"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KRINGLOOP_LANG": "nl", "LANG": "C.UTF-8"}, "nl"),
        ({"LANG": "nl_NL.UTF-8"}, "nl"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "nl_NL.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_cli_language(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name in ("KRINGLOOP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli_language() == expected


def test_pseudo_locale_marks_everything_that_passes_through() -> None:
    t = translator("qps")
    assert t.gettext("Pipeline") == "⟦Pipeline⟧"
    assert t.ngettext("%(n)s day", "%(n)s days", 2) == "⟦%(n)s days⟧"
    assert t.number(1000) == "⟦1.000⟧"
    assert t.day(date(2018, 6, 1)) == "⟦1 juni 2018⟧"


def test_a_refusal_is_rendered_from_its_id_and_parameters() -> None:
    refusal = RuleError(
        N_("cannot {step} at {stage} on {day}"),
        step="form",
        stage=Term("stage", "expert_scan"),
        day=date(2024, 3, 1),
    )
    assert translator("en").message(refusal) == "cannot form at expert scan on 1 March 2024"
    assert translator("nl").message(refusal) == "cannot form at expertonderzoek on 1 maart 2024"
    assert translator("qps").message(refusal) == (
        "⟦cannot form at ⟦expertonderzoek⟧ on ⟦1 maart 2024⟧⟧"
    )
    assert translator("nl").message(ValueError("plain {braces}")) == "plain {braces}"


def test_the_switch_names_each_language_in_itself() -> None:
    assert [(c.code, c.name, c.current) for c in choices("en")] == [
        ("nl", "Nederlands", False),
        ("en", "English", True),
    ]
