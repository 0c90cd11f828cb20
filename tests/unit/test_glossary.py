"""The glossary gives every domain slug a page or the CLI shows one agreed Dutch word and one
English word: every value of the domain's vocabularies, every command of the catalogue, and
the streams, targets and purchase categories of the demo scenarios; within one kind no two
slugs share a word."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import get_args, get_type_hints

import pytest
import yaml

from adapters.accounts.users import Role as UserRole
from adapters.i18n import GLOSSARY, glossary, translator
from domain.commands.catalogue import CATALOGUE
from domain.commands.initiative import EscalateInitiative
from domain.commands.programme import RecordPhaseChange
from domain.values import (
    AuthorityRole,
    CircularityLevel,
    Measure,
    OrganisationKind,
    PhaseStatus,
    PreconditionKind,
    PreconditionStatus,
    Role,
    ScaleLevel,
    Stage,
    Status,
)
from projections import procurement
from projections.progress import SourceKind
from projections.queries import list_initiatives

SCENARIOS = Path(__file__).resolve().parents[2] / "adapters" / "scenarios"

ENUMS: dict[str, list[type[StrEnum]]] = {
    "stage": [Stage],
    "status": [Status],
    "precondition_kind": [PreconditionKind],
    "precondition_status": [PreconditionStatus],
    "consortium_role": [Role],
    "level": [CircularityLevel],
    "role": [UserRole, AuthorityRole],
    "organisation_kind": [OrganisationKind],
    "scale_level": [ScaleLevel],
    "phase_status": [PhaseStatus],
    "measure": [Measure],
}
"""The kinds whose slugs are exactly one vocabulary's values (user roles and authority roles
are the same four words)."""


def _scenario_commands(name: str) -> list[dict[str, object]]:
    files = ("first-steps.jsonl", "regional.jsonl")
    texts = [(SCENARIOS / file).read_text() for file in files]
    found = [json.loads(line) for text in texts for line in text.splitlines() if line.strip()]
    return [c for c in found if c["command"] == name]


def _regional() -> dict[str, object]:
    data = yaml.safe_load((SCENARIOS / "regional.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _phases() -> set[str]:
    bounds = RecordPhaseChange.model_fields["phase"].metadata
    low = next(m.ge for m in bounds if hasattr(m, "ge"))
    high = next(m.le for m in bounds if hasattr(m, "le"))
    return {str(n) for n in range(low, high + 1)}


def _demo_streams() -> set[str]:
    registered = {str(c["stream"]) for c in _scenario_commands("register-stream")}
    streams = _regional()["programme"]["streams"]  # type: ignore[index]
    in_yaml = set(streams) | {sub for _, subs in streams.values() for sub in subs}
    return registered | in_yaml


def _demo_targets() -> set[str]:
    set_ = {str(c["key"]) for c in _scenario_commands("set-target")}
    return set_ | {t[0] for t in _regional()["programme"]["targets"]}  # type: ignore[index]


def _demo_categories() -> set[str]:
    adopted = {str(c["category"]) for c in _scenario_commands("adopt-category")}
    return adopted | set(_regional()["procurement"]["categories"])  # type: ignore[index]


REQUIRED: dict[str, set[str]] = {
    **{kind: {str(v) for enum in enums for v in enum} for kind, enums in ENUMS.items()},
    "command": set(CATALOGUE),
    "phase": _phases(),
    "concern": set(get_args(EscalateInitiative.model_fields["concern"].annotation)),
    "flag": {
        str(v)
        for v in get_args(get_args(get_type_hints(list_initiatives)["flagged"])[0])
        if v is not None
    },
    "source_kind": set(get_args(SourceKind)),
    "milestone_status": {
        procurement.MILESTONE_MET,
        procurement.MILESTONE_MISSED,
        procurement.NO_MILESTONE,
        procurement.NO_REPORT,
        "no milestone yet",  # projections.procurement: a commitment before its first milestone
    },
    "stream": _demo_streams(),
    "target": _demo_targets(),
    "category": _demo_categories(),
}


def test_the_glossary_file_is_the_one_the_translator_reads() -> None:
    assert GLOSSARY.exists()
    assert set(REQUIRED) <= set(glossary())


@pytest.mark.parametrize("kind", sorted(REQUIRED))
def test_every_slug_of_a_kind_has_a_dutch_and_an_english_word(kind: str) -> None:
    entries = glossary().get(kind, {})
    missing = sorted(REQUIRED[kind] - set(entries))
    assert not missing, f"glossary.toml [{kind}] has no entry for {missing}"
    for slug, entry in entries.items():
        assert set(entry) == {"nl", "en"}, f"[{kind}] {slug}: {entry}"
        assert all(isinstance(w, str) and w.strip() for w in entry.values()), f"[{kind}] {slug}"


@pytest.mark.parametrize("kind", [*sorted(ENUMS), "command", "phase", "concern", "flag"])
def test_a_vocabulary_kind_has_no_slug_the_code_no_longer_knows(kind: str) -> None:
    stale = sorted(set(glossary()[kind]) - REQUIRED[kind])
    assert not stale, f"glossary.toml [{kind}] names slugs the code does not have: {stale}"


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("kind", sorted(REQUIRED))
def test_no_two_slugs_of_a_kind_share_a_word(kind: str, lang: str) -> None:
    seen: dict[str, str] = {}
    for slug, entry in glossary()[kind].items():
        word = entry[lang].casefold()
        assert word not in seen, f"[{kind}] {seen[word]} and {slug} are both '{entry[lang]}'"
        seen[word] = slug


def test_the_translator_speaks_the_agreed_words() -> None:
    # the source's words, as the issue asks for them
    nl, en = translator("nl"), translator("en")
    assert nl.term("stage", Stage.MARKET_CONSULTATION) == "marktconsultatie"
    assert nl.term("stage", Stage.SCALING_UP) == "opschalen"
    assert nl.term("role", UserRole.BROKER) == "transitiemakelaar"
    assert nl.term("precondition_kind", "collection_and_logistics") == "inzameling en logistiek"
    assert nl.term("stream", "textiles") == "Niet meer draagbaar textiel"
    assert en.term("stage", Stage.EXPERT_SCAN) == "expert scan"
