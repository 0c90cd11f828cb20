"""The command line says why it refused in the user's language: KRINGLOOP_LANG, else the
locale (LC_ALL, LC_MESSAGES, LANG: nl_* is Dutch), English otherwise; ``--json`` keeps the
language-independent ``code`` and ``message_id`` beside the words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json

KRINGLOOP = [sys.executable, "-m", "adapters.cli"]
FORM = ["initiative", "form-consortium", "timber-reuse", "--actor", "broker-bas", "--reason", "go"]
DUTCH = (
    "geweigerd: het consortium vormen kan niet: er staat nog 1 randvoorwaarde open: "
    "gegarandeerd volume (demolition-volume)"
)
ENGLISH = (
    "refused: cannot form consortium: 1 precondition still open: guaranteed volume "
    "(demolition-volume)"
)
LOCALE = ("KRINGLOOP_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


def kringloop(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, with only the language variables given."""
    clean = {k: v for k, v in os.environ.items() if k not in LOCALE}
    clean.pop("KRINGLOOP_DATABASE_URL", None)
    return subprocess.run(
        [*KRINGLOOP, *args],
        capture_output=True,
        text=True,
        env={**clean, "KRINGLOOP_HOME": str(home), "COLUMNS": "400", **env},
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("cli-language")
    loaded = kringloop(found, "demo", "--fresh", "--scenario", "first-steps", "--json")
    assert loaded.returncode == 0, loaded.stderr
    return found


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"KRINGLOOP_LANG": "nl"}, DUTCH),
        ({"LANG": "nl_NL.UTF-8"}, DUTCH),
        ({"KRINGLOOP_LANG": "en", "LANG": "nl_NL.UTF-8"}, ENGLISH),
        ({"LANG": "C.UTF-8"}, ENGLISH),
    ],
)
def test_a_refusal_is_said_in_the_language_of_the_environment(
    home: Path, env: dict[str, str], said: str
) -> None:
    refused = kringloop(home, *FORM, **env)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [said]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_json_keeps_the_code_and_the_message_id_in_every_language(home: Path, lang: str) -> None:
    refused = kringloop(home, *FORM, "--json", KRINGLOOP_LANG=lang)
    assert refused.returncode == 1
    answer = as_json(refused)
    assert answer["error"] == answer["code"] == "preconditions_open"
    assert answer["message_id"] == "cannot {action}: 1 precondition still open: {unresolved}"
    assert answer["message"] == (DUTCH if lang == "nl" else ENGLISH).split(": ", 1)[1]


def test_apply_names_a_line_it_cannot_read_in_dutch(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "commands.jsonl"
    path.write_text('{"command": "create-programme"\n')
    stopped = kringloop(home, "apply", str(path), "--json", KRINGLOOP_LANG="nl")
    assert stopped.returncode == 1
    assert as_json(stopped)["message"].startswith(f"{path}:1: geen JSON-object (")


def test_initiative_show_and_the_pipeline_speak_dutch_with_the_glossary_words(home: Path) -> None:
    shown = kringloop(home, "initiative", "show", "timber-reuse", KRINGLOOP_LANG="nl")
    assert shown.returncode == 0, shown.stderr
    assert "fase randvoorwaarden vervullen sinds" in shown.stdout
    assert "Randvoorwaarden" in shown.stdout
    assert "gegarandeerd volume" in shown.stdout
    # a step the table refuses now says why in Dutch, from the refusal's message id
    assert "nu niet: form-consortium: het consortium vormen kan niet: " in shown.stdout
    english = kringloop(home, "initiative", "show", "timber-reuse", LANG="C.UTF-8")
    assert "stage precondition fulfilment since" in english.stdout
    assert "not now: form-consortium: cannot form the consortium: 1 precondition" in english.stdout
    board = kringloop(home, "pipeline", KRINGLOOP_LANG="nl")
    assert "Pijplijn: actieve initiatieven per stroom en fase" in board.stdout
    assert "randvoorwaarden vervullen: timber-reuse" in board.stdout
