"""The `kringloop` command line as a broker runs it: real processes, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.demo import scenario_path
from tests.conftest import postgres_env

KRINGLOOP = [sys.executable, "-m", "adapters.cli"]


def kringloop(
    home: Path, *args: str, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "KRINGLOOP_HOME": str(home), **(env or {})}
    full_env.pop("KRINGLOOP_DATABASE_URL", None) if env is None else None
    done = subprocess.run(
        [*KRINGLOOP, *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


def test_the_demo_loads_its_scenario_and_shows_each_path(tmp_path: Path) -> None:
    demo = as_json(kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json"))
    stages = {i["id"]: (i["stage"], i["status"]) for i in demo["initiatives"]}
    assert stages == {
        "roadside-grass-insulation": ("scaled_up", "active"),
        "diaper-recycling": ("board_withdrawn", "active"),
        "mattress-recycling": ("precondition_fulfilment", "stalled"),
        "textile-fibre-to-fibre": ("market_consultation", "abandoned"),
        "timber-reuse": ("precondition_fulfilment", "active"),
    }
    assert demo["applied"] == len(scenario_path("first-steps").read_text().splitlines())


def test_running_the_demo_again_records_nothing_new(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    again = as_json(kringloop(tmp_path, "demo", "--scenario", "first-steps", "--json"))
    assert again["applied"] == 0
    assert again["already_applied"] == len(scenario_path("first-steps").read_text().splitlines())


def test_apply_stops_at_a_refused_line_and_continues_after_the_fix(tmp_path: Path) -> None:
    lines = scenario_path("first-steps").read_text().splitlines()
    broken = list(lines)
    broken[40] = broken[40].replace('"reason": "', '"reason": "", "x": "')
    path = tmp_path / "commands.jsonl"
    path.write_text("\n".join(broken) + "\n")
    stopped = kringloop(tmp_path, "apply", str(path), ok=False)
    assert stopped.returncode == 1
    assert f"commands.jsonl:41: invalid {json.loads(lines[40])['command']}" in stopped.stderr
    assert "applied 40 before the stop" in stopped.stdout
    path.write_text("\n".join(lines) + "\n")
    resumed = as_json(kringloop(tmp_path, "apply", str(path), "--json"))
    assert (resumed["applied"], resumed["already_applied"]) == (len(lines) - 40, 40)


def test_apply_names_a_line_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "commands.jsonl"
    path.write_bytes(b'{"command": "create-programme"\n\xff\xfe\n')
    stopped = kringloop(tmp_path, "apply", str(path), "--json", ok=False)
    assert as_json(stopped)["line"] == 1
    assert "not a JSON object" in as_json(stopped)["message"]


def test_a_refused_step_exits_non_zero_with_the_reason_and_appends_nothing(
    tmp_path: Path,
) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    before = as_json(kringloop(tmp_path, "initiative", "show", "timber-reuse", "--json"))
    refused = kringloop(
        tmp_path,
        "initiative",
        "form-consortium",
        "timber-reuse",
        "--actor",
        "broker-bas",
        "--reason",
        "let us try",
        ok=False,
    )
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "refused: cannot form consortium: 1 precondition still open: guaranteed volume "
        "(demolition-volume)"
    ]
    after = as_json(kringloop(tmp_path, "initiative", "show", "timber-reuse", "--json"))
    assert after["initiative"]["version"] == before["initiative"]["version"]


def test_a_broker_takes_a_step_from_the_command_line(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    done = as_json(
        kringloop(
            tmp_path,
            "initiative",
            "fulfil-precondition",
            "timber-reuse",
            "--precondition",
            "demolition-volume",
            "--reason",
            "contracts signed",
            "--evidence",
            "contract-1.pdf",
            "--evidence",
            "contract-2.pdf",
            "--effective",
            "2018-08-01",
            "--json",
            env={"KRINGLOOP_ACTOR": "broker-bas"},
        )
    )
    assert (done["kind"], done["id"], done["replayed"]) == ("initiative", "timber-reuse", False)
    shown = as_json(kringloop(tmp_path, "initiative", "show", "timber-reuse", "--json"))
    last = shown["decisions"][-1]
    assert (last["event"], last["actor"], last["effective"], last["evidence"]) == (
        "PreconditionFulfilled",
        "broker-bas",
        "2018-08-01",
        ["contract-1.pdf", "contract-2.pdf"],
    )
    statuses = {p["precondition"]: p["status"] for p in shown["preconditions"]}
    assert statuses["demolition-volume"] == "fulfilled"


def test_structured_fields_take_json_on_the_command_line(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    refused = kringloop(
        tmp_path,
        "initiative",
        "agree-arrangement",
        "timber-reuse",
        "--actor",
        "broker-bas",
        "--reason",
        "r",
        "--arrangement-type",
        "jv",
        "--shares",
        "[{'party': 1}]",
        ok=False,
    )
    assert "--shares: not JSON" in refused.stderr
    assert (
        'expected a JSON list like [{"party": "Example Recycling BV", "cost_share": 60'
        in refused.stderr
    )


@pytest.mark.parametrize(
    ("group", "command", "option", "example"),
    [
        ("initiative", "agree-arrangement", "--shares", '\'[{"party": "Example Recycling BV",'),
        ("initiative", "assess-scale-up", "--figures", '\'{"months_operating": 14,'),
        ("procurement", "commit", "--path", '\'[{"year": 2022, "share": 10},'),
    ],
)
def test_an_option_that_takes_json_shows_a_worked_example(
    tmp_path: Path, group: str, command: str, option: str, example: str
) -> None:
    shown = " ".join(kringloop(tmp_path, group, command, "--help").stdout.split())
    assert f"{option} JSON" in shown
    assert f"(JSON, e.g. {example}" in shown


def test_json_of_the_wrong_shape_is_refused_with_the_shape_expected(tmp_path: Path) -> None:
    refused = kringloop(
        tmp_path,
        "procurement",
        "commit",
        "haarlem",
        "--programme-id",
        "mra-circular",
        "--organisation",
        "Haarlem",
        "--organisation-kind",
        "municipality",
        "--path",
        '{"2025": 50}',
        "--actor",
        "haarlem",
        "--reason",
        "r",
        ok=False,
    )
    assert refused.returncode == 1
    assert "path: Input should be a valid list" in refused.stderr
    assert 'path: expected a JSON list like [{"year": 2022, "share": 10}' in refused.stderr


def test_a_former_sub_command_still_decides_and_help_marks_it_deprecated(tmp_path: Path) -> None:
    shown = kringloop(tmp_path, "programme", "--help").stdout
    unwrapped = "".join(shown.split())  # help wraps lines, even inside a hyphenated name
    assert "create-programme" in shown.split()
    assert "(DEPRECATED:use`kringloopprogrammecreate-programme`)" in unwrapped
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    created = kringloop(
        tmp_path,
        "programme",
        "create",
        "zaanstreek",
        "--name",
        "Circular Zaanstreek",
        "--region",
        "Zaanstreek",
        "--actor",
        "board-secretariat",
        "--reason",
        "a second programme",
        "--json",
    )
    assert as_json(created)["command"] == "create-programme"
    assert "deprecated" in created.stderr.lower()


def test_programme_show_gives_the_last_day_a_mandate_held(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    kringloop(
        tmp_path,
        "programme",
        "revoke-mandate",
        "mra-circular",
        "--broker",
        "broker-bas",
        "--streams",
        "textiles",
        "--effective",
        "2024-01-01",
        "--actor",
        "board-secretariat",
        "--reason",
        "moved to the procurement team",
    )
    shown = kringloop(tmp_path, "programme", "show", "mra-circular").stdout
    assert "from 2016-01-04, last day 2023-12-31" in shown
    assert "from 2016-01-04, no end" in shown


def test_commands_json_lists_every_command_with_its_schema(tmp_path: Path) -> None:
    listed = as_json(kringloop(tmp_path, "commands", "--json"))
    names = {c["command"] for c in listed}
    assert {"form-consortium", "grant-mandate", "fall-back"} <= names
    form = next(c for c in listed if c["command"] == "form-consortium")
    assert form["cli"] == "kringloop initiative form-consortium"
    assert "initiative_id" in form["schema"]["required"]


def test_reading_an_initiative_does_not_import_prefect(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    probe = (
        "import sys\n"
        "from adapters.cli.app import app\n"
        "try:\n"
        "    app(['initiative', 'show', 'diaper-recycling', '--json'])\n"
        "except SystemExit as done:\n"
        "    assert done.code in (0, None), done.code\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'prefect'], 'prefect loaded'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "KRINGLOOP_HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_commands_reach_the_engine_directly_without_prefect(tmp_path: Path) -> None:
    """A broker's command is decided in the CLI's own process, by the engine: the process
    never imports Prefect (checked as it exits), and the decision is in the record."""
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    probe = (
        "import atexit, json, runpy, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(\n"
        "    m for m in sys.modules if m.split('.')[0] == 'prefect')), file=sys.stderr))\n"
        "runpy.run_module('adapters.cli', run_name='__main__')\n"
    )
    stall = ["initiative", "stall", "timber-reuse", "--reason", "waiting for the permit"]
    env = {**os.environ, "KRINGLOOP_HOME": str(tmp_path)}
    env.pop("KRINGLOOP_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", probe, *stall, "--actor", "broker-bas", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.splitlines()[-1]) == [], "the command loaded Prefect"
    assert as_json(done)["replayed"] is False
    shown = as_json(kringloop(tmp_path, "initiative", "show", "timber-reuse", "--json"))
    last = shown["decisions"][-1]
    assert (last["event"], last["actor"], last["reason"]) == (
        "Stalled",
        "broker-bas",
        "waiting for the permit",
    )


def test_an_unknown_initiative_is_a_clear_refusal(tmp_path: Path) -> None:
    refused = kringloop(tmp_path, "initiative", "show", "nope", ok=False)
    assert refused.returncode == 1
    assert "no initiative 'nope'" in refused.stderr


@pytest.mark.postgres
def test_one_setting_moves_the_store_to_postgresql(tmp_path: Path, postgres_url: str) -> None:
    schema = f"cli_{uuid.uuid4().hex[:8]}"
    postgres_env(postgres_url, schema)
    env = {"KRINGLOOP_DATABASE_URL": postgres_url, "KRINGLOOP_DATABASE_SCHEMA": schema}
    applied = as_json(
        kringloop(tmp_path, "apply", str(scenario_path("first-steps")), "--json", env=env)
    )
    assert applied["applied"] == len(scenario_path("first-steps").read_text().splitlines())
    shown = as_json(
        kringloop(tmp_path, "initiative", "show", "diaper-recycling", "--json", env=env)
    )
    assert shown["initiative"]["stage"] == "board_withdrawn"
    assert not (tmp_path / "events.sqlite").exists()
    with psycopg.connect(postgres_url) as conn:
        count = conn.execute(f'SELECT count(*) FROM "{schema}".kringloop_events').fetchone()
    assert count is not None
    assert count[0] == applied["applied"]


def test_the_read_commands_answer_from_the_read_models(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    stalled = as_json(kringloop(tmp_path, "initiative", "list", "--status", "stalled", "--json"))
    assert [s["id"] for s in stalled] == ["mattress-recycling"]
    board = as_json(kringloop(tmp_path, "pipeline", "--json"))
    rows = {r["stream"]: r for r in board["rows"]}
    assert rows["biomass"]["initiatives"]["scaled_up"] == ["roadside-grass-insulation"]
    assert rows["diapers"]["initiatives"]["board_withdrawn"] == ["diaper-recycling"]
    assert rows["mattresses"]["stalled"] == ["mattress-recycling"]
    assert "precondition_fulfilment" not in rows["mattresses"]["counts"]
    overdue = as_json(kringloop(tmp_path, "preconditions", "--overdue", "--json"))
    assert {p["precondition"] for p in overdue} == {"epr-volume", "demolition-volume"}
    progress = {
        t["key"]: t
        for t in as_json(kringloop(tmp_path, "programme", "progress", "mra-circular", "--json"))
    }
    assert progress["chains-redesigned"]["current"] == 2
    found = as_json(kringloop(tmp_path, "decisions", "--step", "consortium formed", "--json"))
    assert sorted(d["subject_id"] for d in found) == [
        "diaper-recycling",
        "roadside-grass-insulation",
    ]


def test_a_write_is_visible_to_the_next_read(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    kringloop(
        tmp_path,
        "initiative",
        "resume",
        "mattress-recycling",
        "--actor",
        "broker-anna",
        "--reason",
        "scheme settled",
    )
    status = as_json(kringloop(tmp_path, "projections", "status", "--json"))[0]
    assert status["lag"] == 0
    (summary,) = [
        s
        for s in as_json(kringloop(tmp_path, "initiative", "list", "--json"))
        if s["id"] == "mattress-recycling"
    ]
    assert summary["status"] == "active"


def test_a_rebuild_leaves_the_same_answers(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    before = kringloop(tmp_path, "initiative", "list", "--json").stdout
    rebuilt = as_json(kringloop(tmp_path, "projections", "rebuild", "--json"))
    assert rebuilt["applied"] == len(scenario_path("first-steps").read_text().splitlines())
    assert kringloop(tmp_path, "initiative", "list", "--json").stdout == before


def test_init_starts_the_authority_register_once_and_a_name_without_authority_is_refused(
    tmp_path: Path,
) -> None:
    create = ("programme", "create", "mra", "--name", "MRA", "--region", "MRA")
    refused = kringloop(tmp_path, *create, "--actor", "board", "--reason", "start", ok=False)
    assert "no authority register yet" in refused.stderr
    started = as_json(kringloop(tmp_path, "init", "--manager", "board", "--json"))
    assert (started["command"], started["kind"]) == ("init-authority", "authority")
    again = kringloop(tmp_path, "init", "--manager", "mallory", ok=False)
    assert "authority 'register' already exists" in again.stderr
    stranger = kringloop(tmp_path, *create, "--actor", "mallory", "--reason", "mine", ok=False)
    assert "'mallory' holds no role manager" in stranger.stderr
    kringloop(tmp_path, *create, "--actor", "board", "--reason", "the board starts it")
    (bootstrap,) = as_json(kringloop(tmp_path, "decisions", "--subject", "board", "--json"))
    assert bootstrap["actor"].startswith("operator:")
    assert bootstrap["authority"] == "bootstrap: the register's first decision, by the operator"
