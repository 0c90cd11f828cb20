"""The README's CLI examples run on the demo data and do what the README says.

The commands are read from the ```sh blocks of the README's sections "Using the CLI" and
"The programme monitor", so the test follows the README. They run in README order against
one demo store (decisions change it), in a working folder for the files they write: each
exits 0, or exits 1 with the refusal the README shows on a `# refused: ...` line after it;
list and filter examples, run again with `--json`, return at least one row.
`my-commands.jsonl`, the file the `apply` example names, is written by the test (the
README leaves its content to the reader).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("Using the CLI", "The programme monitor")
KRINGLOOP = [sys.executable, "-m", "adapters.cli"]
READS_WITH_ROWS = (  # list and filter examples: the README implies they find something
    ("initiative", "list"),
    ("pipeline",),
    ("preconditions",),
    ("decisions",),
    ("procurement", "roadmap"),
    ("procurement", "categories"),
    ("procurement", "communities"),
)
MY_COMMANDS = {
    "command": "record-response",
    "initiative_id": "sludge-bioplastics",
    "actor": "broker-anna",
    "reason": "Interested in the second round",
    "effective": "2026-11-02",
    "company": "Voorbeeld Biopolymeren BV",
    "willing_to_invest": True,
    "willing_to_lead": False,
}


@dataclass
class Example:
    args: list[str]
    env: dict[str, str]
    refused: str | None = None
    stdout_to: str | None = None  # `> FILE`


def readme_examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    examples: list[Example] = []
    env: dict[str, str] = {}
    for section in SECTIONS:
        body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        for block in re.findall(r"```sh\n(.*?)```", body, flags=re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line.startswith("# refused:"):
                    examples[-1].refused = line.removeprefix("# refused:").strip()
                elif line.startswith("export "):
                    env.update(w.split("=", 1) for w in shlex.split(line)[1:])
                elif line.startswith("kringloop "):
                    args = shlex.split(line, comments=True)[1:]
                    target = args[args.index(">") + 1] if ">" in args else None
                    args = args[: args.index(">")] if target else args
                    examples.append(Example(args, dict(env), stdout_to=target))
    return examples


EXAMPLES = readme_examples()


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    full_env.pop("KRINGLOOP_DATABASE_URL", None)
    return subprocess.run(
        [*KRINGLOOP, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo loaded into a fresh home, and a working folder for the examples' files."""
    home, work = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("work")
    done = run(["demo", "--fresh", "--json"], {"KRINGLOOP_HOME": str(home)}, work)
    assert done.returncode == 0, done.stderr
    (work / "my-commands.jsonl").write_text(json.dumps(MY_COMMANDS) + "\n")
    return home, work


def test_the_readme_sections_hold_the_examples() -> None:
    commands = [" ".join(e.args[:2]) for e in EXAMPLES]
    assert "initiative form-consortium" in commands
    assert any(e.refused for e in EXAMPLES)
    assert "procurement commit" in commands
    assert len(EXAMPLES) >= 15


def rows(found: object) -> int:
    if isinstance(found, dict):
        return len(found["rows"])
    assert isinstance(found, list)
    return len(found)


def test_every_example_does_what_the_readme_says(demo: tuple[Path, Path]) -> None:
    home, work = demo
    for example in EXAMPLES:  # in README order: the decisions build on each other
        env = {**example.env, "KRINGLOOP_HOME": str(home)}
        shown = "kringloop " + shlex.join(example.args)
        done = run(example.args, env, work)
        if example.refused is not None:
            assert done.returncode == 1, f"{shown} was not refused: {done.stdout}"
            assert f"refused: {example.refused}" in done.stderr, shown
            continue
        assert done.returncode == 0, f"{shown}: {done.stderr}"
        if example.stdout_to:
            (work / example.stdout_to).write_text(done.stdout, encoding="utf-8")
            continue
        if "--format" not in example.args and any(
            tuple(example.args[: len(p)]) == p for p in READS_WITH_ROWS
        ):
            args = example.args if "--json" in example.args else [*example.args, "--json"]
            again = run(args, env, work)
            assert again.returncode == 0, f"{shown} --json: {again.stderr}"
            assert rows(json.loads(again.stdout)) >= 1, f"{shown} finds nothing"
    assert (work / "report" / "index.html").exists()
