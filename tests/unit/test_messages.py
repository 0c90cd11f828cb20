"""Every refusal can be read in Dutch and in English: each message id has both texts, every
refusal the domain raises is worded from a message id in the catalogue, and the catalogue
template is what extraction finds today (``make catalogues`` was run after the last change).
"""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from adapters.i18n import LOCALE_DIR, translator
from domain import errors
from domain.commands.next_steps import next_steps
from domain.engine import Engine
from domain.errors import (
    KringloopError,
    Message,
    RuleError,
    Term,
    WrongStageError,
    either,
    localise,
)
from domain.initiative import LATE_ENTRIES, LIFECYCLE
from domain.messages import N_
from tests.lifecycle import STATES, state_id
from tests.unit.test_lifecycle_table import every_state  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}  # as make catalogues
REFUSALS = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, KringloopError)
}
FIELD = re.compile(r"\{(\w+)\}")
DOORS = ("adapters/api/problems.py", "adapters/commanding.py", "adapters/cli/context.py")


def catalogue(lang: str | None = None) -> dict[str, str]:
    """msgid → msgstr of the template (no language) or of a language's catalogue."""
    path = (
        LOCALE_DIR / "messages.pot"
        if lang is None
        else LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    )
    with path.open("rb") as file:
        found = read_po(file)
    return {  # a plural by its singular: msgstr[0]
        _singular(m.id): _singular(m.string) for m in found if m.id
    }


def _singular(text: object) -> str:
    return str(text[0]) if isinstance(text, tuple | list) else str(text)


def marked_in(place: Path) -> dict[str, str]:
    """Every string marked N_("...") in a Python file or a folder's: text → where."""
    found = {}
    for path in [place] if place.is_file() else place.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                (argument,) = node.args
                assert isinstance(argument, ast.Constant), f"{path}:{node.lineno}: N_ of a literal"
                found[str(argument.value)] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def worded(node: ast.expr) -> bool:
    """N_("..."), a name holding one, or a choice between two such."""
    if isinstance(node, ast.IfExp):
        return worded(node.body) and worded(node.orelse)
    marked = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"
    return marked or isinstance(node, ast.Name)


def test_every_message_id_has_a_dutch_and_an_english_text() -> None:
    template, dutch, english = catalogue(), catalogue("nl"), catalogue("en")
    untranslated = sorted(m for m in template if not dutch.get(m, "").strip())
    assert not untranslated, f"{len(untranslated)} without a Dutch text: {untranslated[:20]}"
    missing = sorted(m for m in template if m not in english)
    assert not missing, f"not in the English catalogue: {missing[:20]}"  # "" there = the msgid


def test_every_refusal_text_has_dutch_with_the_same_fields() -> None:
    """The domain's and the doors' refusal texts: Dutch, and naming the same parameters."""
    dutch = catalogue("nl")
    marked = marked_in(DOMAIN)
    for path in DOORS:
        marked |= marked_in(ROOT / path)
    assert len(marked) > 150
    for text, where in marked.items():
        assert dutch.get(text), f"{where}: no Dutch text for {text!r}"
        assert set(FIELD.findall(dutch[text])) == set(FIELD.findall(text)), f"{where}: {text!r}"


def test_every_refusal_the_domain_raises_is_worded_from_a_marked_message_id() -> None:
    """No refusal in domain/ is built from an f-string or unmarked words: its first argument
    is N_("...") or a name holding one; every N_ text is in the catalogue template."""
    template = catalogue()
    unworded = []
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            refusal = name in REFUSALS or (
                isinstance(node.func, ast.Call) and getattr(node.func.func, "id", "") == "type"
            )
            if refusal and not worded(node.args[0]):
                unworded.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not unworded, f"refusals not worded from N_(...): {unworded}"
    marked = marked_in(DOMAIN)
    assert len(marked) > 120
    missing = sorted(f"{where}: {text!r}" for text, where in marked.items() if text not in template)
    assert not missing, f"run `make catalogues`: {missing}"


def test_the_catalogue_template_is_what_extraction_finds() -> None:
    """Extracting again (babel.cfg, the keywords of `make catalogues`) finds exactly the
    message ids of messages.pot: none added since, none gone."""
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS
        )
    }
    found.discard("")
    template = set(catalogue())
    assert not found - template, (
        f"not in messages.pot (make catalogues): {sorted(found - template)}"
    )
    assert not template - found, f"stale in messages.pot: {sorted(template - found)}"


def test_the_late_entries_named_are_the_steps_that_may_be_entered_late() -> None:
    assert set(LATE_ENTRIES) == {name for name, step in LIFECYCLE.items() if step.late}


def test_a_refusal_keeps_its_id_its_parameters_and_its_english_words() -> None:
    refusal = RuleError(
        N_("cannot start phase {phase}: phase {previous} has not started"), phase=3, previous=2
    )
    assert refusal.message_id == "cannot start phase {phase}: phase {previous} has not started"
    assert refusal.params == {"phase": 3, "previous": 2}
    assert str(refusal) == "cannot start phase 3: phase 2 has not started"
    assert refusal.code == "rule"
    assert str(KringloopError("a {brace} that is no field")) == "a {brace} that is no field"


def _wrong_stage() -> WrongStageError:
    return WrongStageError(
        N_("cannot {action}: {where}, not {expected}"),
        action=Message(N_("start the expert scan")),
        where=Message(
            N_("initiative '{initiative}' is at {stage}"),
            initiative="grass",
            stage=Term("stage", "market_consultation"),
        ),
        expected=either([Term("stage", "proposed"), Term("stage", "expert_scan")]),
    )


def test_a_refusal_reads_in_dutch_with_the_glossary_words() -> None:
    refusal = _wrong_stage()
    assert str(refusal) == (
        "cannot start the expert scan: initiative 'grass' is at market consultation, "
        "not proposed or expert scan"
    )
    assert localise(refusal, translator("en")) == str(refusal)
    assert localise(refusal, translator("nl")) == (
        "het expertonderzoek starten kan niet: initiatief 'grass' staat in de fase "
        "marktconsultatie, niet in voorgesteld of expertonderzoek"
    )


def test_dates_and_numbers_of_a_refusal_read_in_each_language() -> None:
    refusal = RuleError(
        N_("{command}: effective date {day} lies in the future (today is {today})"),
        command=Term("command", "start-expert-scan"),
        day=date(2024, 6, 1),
        today=date(2024, 5, 31),
    )
    assert str(refusal) == (
        "start-expert-scan: effective date 2024-06-01 lies in the future (today is 2024-05-31)"
    )
    assert localise(refusal, translator("nl")) == (
        "Expertonderzoek starten: ingangsdatum 1 juni 2024 ligt in de toekomst "
        "(vandaag is het 31 mei 2024)"
    )
    spend = RuleError(
        N_("circular spend (EUR {circular}) cannot exceed total spend (EUR {total})"),
        circular=1250000.0,
        total=1000000.0,
    )
    assert str(spend) == "circular spend (EUR 1,250,000) cannot exceed total spend (EUR 1,000,000)"
    assert "(€ 1.250.000)" in localise(spend, translator("nl"))


def test_why_not_of_every_step_in_every_state_reads_in_dutch(
    every_state: Engine,  # noqa: F811  (the fixture imported above)
) -> None:
    """What the doors offer (next_steps): each step not allowed carries its refusal, whose
    English words are ``why_not`` and whose Dutch words hold none of the English ones."""
    dutch, english = translator("nl"), translator("en")
    seen = set()
    for stage, status in STATES:
        for step in next_steps(every_state.initiative(state_id(stage, status))):
            if step.allowed:
                assert step.refusal is None
                continue
            assert step.refusal is not None, step.step
            assert step.why_not == str(step.refusal)
            assert localise(step.refusal, english).startswith("cannot ")
            said = localise(step.refusal, dutch)
            assert " kan niet" in said, said
            words = re.sub(r"\([^)]*\)", "", said)  # a reason, a name: the record's words
            assert not re.search(r"\b(cannot|initiative|the|not|is at)\b", words), said
            seen.add(step.refusal.message_id)
    assert len(seen) >= 8
