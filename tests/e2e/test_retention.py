"""`kringloop retention`: records past their period listed, a destruction list approved by
a manager and carried out, and the chain still verifying, with the destroyed content gone
from the files: real processes on the first-steps demo plus one initiative that ended in
2016 (its consultation response is due on 2026-05-01)."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.demo import scenario_path
from domain.values import PROGRAMME_TZ
from tests.conftest import postgres_env
from tests.e2e.test_cli import as_json, kringloop

pytestmark = pytest.mark.slow  # every test runs the CLI in processes, many times

SECRET = "Zwijgplicht-Klaproos-7319"  # the company's stated precondition, to be destroyed
MANAGER = ("--actor", "board-secretariat", "--reason", "Selectielijst: ten years after the end")
PILOT = [
    ("propose-initiative", "2016-01-10", {"programme_id": "mra-circular", "stream": "textiles",
                                          "title": "Old textile pilot"}),
    ("start-expert-scan", "2016-01-10", {}),
    ("record-option", "2016-01-15", {"option": "blend", "description": "Blend fibres",
                                     "circularity_level": "R8", "expert": "Circle Economy"}),
    ("complete-expert-scan", "2016-01-20", {"chosen_options": ["blend"]}),
    ("open-consultation", "2016-02-01", {}),
    ("record-response", "2016-02-15", {"company": "Vezelvriend BV", "willing_to_invest": False,
                                       "willing_to_lead": False,
                                       "stated_preconditions": [f"{SECRET} fibre guarantee"]}),
    ("abandon", "2016-05-01", {}),
]  # fmt: skip


def retention(
    home: Path, *args: str, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """`kringloop retention ARGS` on the store in ``home``."""
    return kringloop(home, "retention", *args, env=env, ok=ok)


def pilot_lines(initiative_id: str = "old-textile-pilot") -> str:
    lines = [
        {"command": command, "command_id": f"{initiative_id}-{i}", "actor": "broker-bas",
         "reason": "history entered", "evidence": [], "effective": day,
         "initiative_id": initiative_id, **fields}
        for i, (command, day, fields) in enumerate(PILOT)
    ]  # fmt: skip
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def stocked(home: Path, env: dict[str, str] | None = None) -> None:
    """The first-steps scenario and the pilot that ended in 2016."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "pilot.jsonl").write_text(pilot_lines())
    kringloop(home, "apply", str(scenario_path("first-steps")), "--json", env=env)
    kringloop(home, "apply", str(home / "pilot.jsonl"), "--json", env=env)


def approved_list(home: Path, env: dict[str, str] | None = None) -> Path:
    draft = home / "list.json"
    retention(home, "due", "--out", str(draft), "--json", env=env)
    retention(home, "approve", str(draft), *MANAGER, env=env)
    return draft


@pytest.fixture(scope="module")
def destroyed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    home = tmp_path_factory.mktemp("retention")
    stocked(home)
    draft = approved_list(home)
    done = as_json(retention(home, "destroy", "--list", str(draft), "--json"))
    return home, done


def test_due_lists_the_responses_of_initiatives_that_ended_ten_years_before(
    tmp_path: Path,
) -> None:
    stocked(tmp_path)
    today = as_json(retention(tmp_path, "due", "--json"))["due"]
    assert [(e["name"], e["event"], e["due_on"]) for e in today] == [
        ("initiative old-textile-pilot", "ConsultationResponseRecorded", "2026-05-01")
    ]
    later = as_json(retention(tmp_path, "due", "--on", "2027-03-01", "--json"))["due"]
    assert {(e["name"], e["record_kind"]) for e in later} == {
        ("initiative old-textile-pilot", "consultation-response"),
        ("initiative textile-fibre-to-fibre", "consultation-response"),  # abandoned 2017-02-01
    }
    assert all(e["version"] > 1 for e in later)


def test_destroyed_list_verifies_intact_and_names_the_destruction(
    destroyed: tuple[Path, dict[str, Any]],
) -> None:
    home, done = destroyed
    assert done["number"] == 1
    assert done["destroyed"] == 1
    report = as_json(kringloop(home, "audit", "verify", "--json"))
    assert report["ok"]
    assert report["problems"] == []
    today = datetime.now(tz=PROGRAMME_TZ).date().isoformat()
    assert report["destructions"] == [f"1 event destroyed on {today} under list 1"]
    text = kringloop(home, "audit", "verify").stdout
    assert "1 event destroyed on" in text
    assert "under list 1" in text


def test_the_destroyed_payload_is_gone_from_the_files(
    destroyed: tuple[Path, dict[str, Any]],
) -> None:
    home, _ = destroyed
    files = [p for p in home.iterdir() if p.name.startswith(("events.sqlite", "read.sqlite"))]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path.name
        assert b"Vezelvriend" not in path.read_bytes(), path.name


def test_a_signed_export_with_a_destroyed_event_checks_offline(
    destroyed: tuple[Path, dict[str, Any]],
) -> None:
    home, _ = destroyed
    bundle = home / "pilot-export.jsonl"
    kringloop(home, "audit", "export", "old-textile-pilot", "--out", str(bundle))
    assert SECRET.encode() not in bundle.read_bytes()
    key = kringloop(home, "audit", "public-key").stdout.strip()
    checked = kringloop(home, "audit", "check-export", str(bundle), "--public-key", key)
    assert "valid" in checked.stdout
    assert "INVALID" not in checked.stdout


def test_figures_still_build_after_a_destruction(destroyed: tuple[Path, dict[str, Any]]) -> None:
    home, _ = destroyed
    progress = as_json(kringloop(home, "programme", "progress", "mra-circular", "--json"))
    assert progress
    pipeline = kringloop(home, "pipeline", "--json").stdout
    assert "old-textile-pilot" in pipeline
    shown = as_json(kringloop(home, "initiative", "show", "old-textile-pilot", "--json"))
    assert shown["initiative"]["status"] == "abandoned"
    assert "Vezelvriend" not in json.dumps(shown)


def test_the_lists_export_as_csv_for_excel(destroyed: tuple[Path, dict[str, Any]]) -> None:
    home, _ = destroyed
    rows = list(
        csv.DictReader(io.StringIO(retention(home, "lists", "--csv").stdout), delimiter=";")
    )
    assert [(r["list"], r["approved_by"], r["event"]) for r in rows] == [
        ("1", "board-secretariat", "ConsultationResponseRecorded")
    ]


def test_a_tombstone_forged_without_an_approved_list_is_altered(
    destroyed: tuple[Path, dict[str, Any]],
) -> None:
    home, _ = destroyed
    forged = home.parent / "forged"
    subprocess.run(["cp", "-a", str(home), str(forged)], check=True)
    with sqlite3.connect(forged / "events.sqlite") as conn:
        topic, state = conn.execute(
            "SELECT topic, state FROM stored_events WHERE topic LIKE 'domain.archive:Destroyed'"
        ).fetchone()
        row = conn.execute(
            "SELECT originator_id, version, content_hash FROM kringloop_chain WHERE version = 2 "
            "AND originator_id NOT IN (SELECT originator_id FROM stored_events "
            "WHERE topic LIKE 'domain.archive:Destroyed') LIMIT 1"
        ).fetchone()
        tomb = json.loads(state)
        tomb["content_hash"] = row[2]  # names the chain's hash, as a real tombstone does
        conn.execute(
            "UPDATE stored_events SET topic=?, state=? WHERE originator_id=? AND "
            "originator_version=?",
            (topic, json.dumps(tomb).encode(), row[0], row[1]),
        )
    report = as_json(kringloop(forged, "audit", "verify", "--json", ok=False))
    assert report["verdict"] == "altered"
    assert [(p["aggregate"], p["version"], p["kind"]) for p in report["problems"]] == [
        (row[0], row[1], "altered")
    ]


def test_destroy_refuses_a_list_that_was_not_approved_or_was_edited(tmp_path: Path) -> None:
    stocked(tmp_path)
    draft = tmp_path / "draft.json"
    retention(tmp_path, "due", "--on", "2027-03-01", "--out", str(draft))
    refused = retention(tmp_path, "destroy", "--list", str(draft), ok=False)
    assert refused.returncode == 1
    assert "was not approved" in refused.stderr
    listed = approved_list(tmp_path)
    edited = json.loads(listed.read_text())
    later = json.loads(draft.read_text())["entries"]
    edited["entries"] = later  # adds the textile response, due only in 2027
    listed.write_text(json.dumps(edited))
    refused = retention(tmp_path, "destroy", "--list", str(listed), ok=False)
    assert "not those of approved list 1 (0 left out, 1 added or changed)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_approve_works_each_entry_out_again_and_refuses_a_forged_one(tmp_path: Path) -> None:
    stocked(tmp_path)
    draft = tmp_path / "list.json"
    retention(tmp_path, "due", "--out", str(draft))
    body = json.loads(draft.read_text())
    entry = body["entries"][0]
    for changed, words in (
        ({"record_kind": "consortium-formation"}, "(record_kind: consultation-response)"),
        ({"due_on": "2020-01-01"}, "(due_on: 2026-05-01)"),  # an earlier date, not a later
        ({"due_on": "2030-01-01"}, "(due_on: 2026-05-01)"),
        ({"rule": "1 years after the decision took effect"}, "(rule: 10 years after"),
        ({"content_hash": "0" * 64}, "(content_hash)"),
        ({"version": 1}, "is not past its retention period on"),
        ({"version": 3}, "is not past its retention period on"),  # a permanent kind
    ):
        body["entries"] = [{**entry, **changed}]
        draft.write_text(json.dumps(body))
        refused = retention(tmp_path, "approve", str(draft), *MANAGER, ok=False)
        assert refused.returncode == 1
        assert words in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert as_json(retention(tmp_path, "lists", "--json")) == []
    body["entries"] = [entry]
    draft.write_text(json.dumps(body))
    auditor = retention(
        tmp_path, "approve", str(draft), "--actor", "broker-bas", "--reason", "x", ok=False
    )
    assert "holds no role manager" in auditor.stderr
    retention(tmp_path, "approve", str(draft), *MANAGER)
    (approved,) = as_json(retention(tmp_path, "lists", "--json"))
    assert approved["entries"] == [entry]


def test_an_approval_through_apply_is_worked_out_again_too(tmp_path: Path) -> None:
    """The engine checks a list's entries against the store whatever the door: `kringloop
    apply` (as the API) gets the same refusal as `retention approve`."""
    stocked(tmp_path)
    draft = tmp_path / "list.json"
    retention(tmp_path, "due", "--out", str(draft))
    (entry,) = json.loads(draft.read_text())["entries"][:1]
    line = {
        "command": "approve-destruction", "command_id": "forged-by-apply",
        "actor": "board-secretariat", "reason": "x", "entries": [{**entry, "due_on": "2020-01-01"}],
    }  # fmt: skip
    opened = {
        "command": "open-archive", "command_id": "open-by-apply", "actor": "board-secretariat",
        "reason": "x", "programme_id": "mra-circular",
    }  # fmt: skip
    lines = tmp_path / "forged.jsonl"
    lines.write_text(json.dumps(opened) + "\n" + json.dumps(line) + "\n")
    applied = kringloop(tmp_path, "apply", str(lines), ok=False)
    assert applied.returncode == 1
    assert "(due_on: 2026-05-01)" in applied.stdout + applied.stderr
    assert as_json(retention(tmp_path, "lists", "--json")) == []


@pytest.mark.postgres
def test_destroy_and_verify_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    schema = f"ret_{uuid.uuid4().hex[:8]}"
    postgres_env(postgres_url, schema)
    env = {"KRINGLOOP_DATABASE_URL": postgres_url, "KRINGLOOP_DATABASE_SCHEMA": schema}
    stocked(tmp_path, env)
    draft = approved_list(tmp_path, env)
    done = as_json(retention(tmp_path, "destroy", "--list", str(draft), "--json", env=env))
    assert done["destroyed"] == 1
    report = as_json(kringloop(tmp_path, "audit", "verify", "--json", env=env))
    assert report["ok"]
    assert report["destructions"][0].endswith("under list 1")
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute(
            f'SELECT count(*) FROM "{schema}".kringloop_events '
            "WHERE position(%s::bytea in state) > 0",
            (SECRET.encode(),),
        ).fetchone()
    assert found == (0,)


def test_destroy_refuses_a_list_with_an_entry_left_out_and_carries_out_the_whole(
    tmp_path: Path,
) -> None:
    stocked(tmp_path)
    (tmp_path / "second.jsonl").write_text(pilot_lines("second-textile-pilot"))
    kringloop(tmp_path, "apply", str(tmp_path / "second.jsonl"), "--json")
    listed = approved_list(tmp_path)
    whole = json.loads(listed.read_text())
    assert len(whole["entries"]) == 2
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**whole, "entries": whole["entries"][:1]}))
    refused = retention(tmp_path, "destroy", "--list", str(edited), ok=False)
    assert refused.returncode == 1
    assert "not those of approved list 1 (1 left out, 0 added or changed)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert as_json(kringloop(tmp_path, "audit", "verify", "--json"))["destructions"] == []
    done = as_json(retention(tmp_path, "destroy", "--list", str(listed), "--json"))
    assert (done["destroyed"], done["before"]) == (2, 0)
    again = as_json(retention(tmp_path, "destroy", "--list", str(listed), "--json"))
    assert (again["destroyed"], again["before"]) == (0, 2)
    assert as_json(kringloop(tmp_path, "audit", "verify", "--json"))["ok"]


def test_the_history_names_the_list_of_a_destroyed_event_and_no_late_entry(
    destroyed: tuple[Path, dict[str, Any]],
) -> None:
    home, _ = destroyed
    lines = as_json(kringloop(home, "audit", "history", "old-textile-pilot", "--json"))
    assert not [line for line in lines if "entered late" in line["note"]]
    (tomb,) = [line for line in lines if line["version"] == 6]
    today = datetime.now(tz=PROGRAMME_TZ).date().isoformat()
    assert tomb["authority"].startswith(
        f"destroyed under list 1, approved by board-secretariat on {today} (decision "
    )


@pytest.mark.parametrize(
    ("args", "content", "words"),
    [
        (("set", "{file}", *MANAGER), '{"table": [', "cannot read"),
        (("set", "{missing}", *MANAGER), None, "cannot read"),
        (("approve", "{file}", *MANAGER), "[1, 2", "cannot read"),
        (("due", "--out", "/nonexistent/dir/x.json"), None, "cannot write /nonexistent/dir"),
    ],
)
def test_a_file_that_cannot_be_read_or_written_is_said_in_one_line(
    tmp_path: Path, args: tuple[str, ...], content: str | None, words: str
) -> None:
    file, missing = tmp_path / "bad.json", tmp_path / "nonexist.json"
    if content is not None:
        file.write_text(content)
    given = [a.format(file=file, missing=missing) for a in args]
    refused = retention(tmp_path, *given, ok=False)
    assert refused.returncode == 1
    assert words in refused.stderr
    assert "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_due_does_not_write_over_an_approved_list_unless_forced(tmp_path: Path) -> None:
    stocked(tmp_path)
    listed = approved_list(tmp_path)
    approved = listed.read_text()
    refused = retention(tmp_path, "due", "--out", str(listed), ok=False)
    assert refused.returncode == 1
    assert "holds approved destruction list 1" in refused.stderr
    assert "--force" in refused.stderr
    assert listed.read_text() == approved
    retention(tmp_path, "due", "--out", str(listed), "--force")
    assert json.loads(listed.read_text())["list"] is None


def test_a_draft_for_a_later_day_says_it_cannot_be_approved_today(tmp_path: Path) -> None:
    stocked(tmp_path)
    later = retention(tmp_path, "due", "--on", "2099-03-01", "--out", str(tmp_path / "l.json"))
    assert "after today" in later.stderr
    assert len(later.stderr.strip().splitlines()) == 1
    today = retention(tmp_path, "due", "--out", str(tmp_path / "t.json"))
    assert today.stderr == ""


def test_retention_set_help_lists_the_rules_and_the_kinds(tmp_path: Path) -> None:
    shown = retention(tmp_path, "set", "--help", env={"COLUMNS": "200"}).stdout
    for word in ("permanent", "after_end", "after_effective", "consultation-response"):
        assert word in shown


def test_a_period_of_one_year_is_said_in_the_singular(tmp_path: Path) -> None:
    stocked(tmp_path)
    table = as_json(retention(tmp_path, "categories", "--json"))["table"]
    for row in table:
        row.pop("period")
        if row["kind"] == "consultation-response":
            row["years"] = 1
    (tmp_path / "table.json").write_text(json.dumps(table))
    retention(tmp_path, "set", str(tmp_path / "table.json"), *MANAGER)
    shown = retention(tmp_path, "categories").stdout
    assert "1 year after the initiative ends" in shown
    assert "1 years" not in shown


def test_the_rows_refusals_and_dates_are_said_in_the_clis_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from adapters.cli import retention as retention_cli
    from adapters.cli import words
    from adapters.cli.app import app
    from adapters.i18n import translator

    stocked(tmp_path)
    pseudo = translator("qps")  # marks every text that went through the translator: ⟦...⟧
    monkeypatch.setattr(words, "words", lambda: pseudo)
    monkeypatch.setattr(retention_cli, "words", lambda: pseudo)
    cli = CliRunner()  # in this process, to speak the tests' pseudo-language

    def run(*args: str) -> Any:
        return cli.invoke(app, ["--home", str(tmp_path), "retention", *args])

    rows = run("categories").stdout.splitlines()[1:]
    assert rows
    assert all(row.count("⟦") == 2 for row in rows), rows  # the period and the category
    (listed, total) = run("due").stdout.splitlines()
    assert listed.startswith("⟦")
    assert "⟦10 years after the initiative ends⟧" in listed
    assert "⟦1 mei 2026⟧" in listed
    assert "2026-05-01" not in listed
    assert total.startswith("⟦")
    assert not re.search(r"\d{4}-\d\d-\d\d", total)  # today in words, not ISO
    header = run("due", "--csv").stdout.splitlines()[0].split(";")
    assert all(field.startswith("⟦") for field in header), header
    draft = tmp_path / "draft.json"
    run("due", "--out", str(draft))
    refused = run("destroy", "--list", str(draft))
    assert refused.exit_code == 1
    assert "⟦this destruction list has no number" in refused.stderr
    body = json.loads(draft.read_text())
    body["entries"][0]["version"] = 3
    draft.write_text(json.dumps(body))
    refused = run("approve", str(draft), *MANAGER)
    assert "is not past its retention period on ⟦" in refused.stderr
