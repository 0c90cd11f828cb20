"""`kringloop audit` as an auditor runs it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from adapters.demo import scenario_path
from tests.e2e.test_cli import as_json, kringloop

SCENARIO_LINES = len(scenario_path("first-steps").read_text().splitlines())  # one event each


def test_verify_passes_on_a_clean_store_and_names_tampering(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    clean = as_json(kringloop(tmp_path, "audit", "verify", "--json"))
    assert (clean["ok"], clean["events_checked"]) == (True, SCENARIO_LINES)
    with sqlite3.connect(tmp_path / "events.sqlite") as conn:
        conn.execute(
            "UPDATE stored_events SET state = replace(state, 'broker-anna', "
            "'broker-eve!') WHERE originator_version = 3"
        )
    broken = kringloop(tmp_path, "audit", "verify", ok=False)
    assert broken.returncode == 1
    assert "ALTERED:" in broken.stderr
    assert "version 3: the stored event differs from what was recorded" in broken.stderr


def test_an_export_checks_offline_with_the_public_key(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    out = tmp_path / "export.jsonl"
    exported = as_json(kringloop(tmp_path, "audit", "export", "--all", "--out", str(out), "--json"))
    assert exported["events"] == SCENARIO_LINES
    key = kringloop(tmp_path, "audit", "public-key").stdout.strip()
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    checked = kringloop(elsewhere, "audit", "check-export", str(out), "--public-key", key)
    assert f"valid: {SCENARIO_LINES} events of 7 aggregates" in checked.stdout  # and the register
    assert not (elsewhere / "events.sqlite").exists(), "the check needs no database"
    out.write_bytes(out.read_bytes().replace(b"GrassFibre", b"GrassFibrE", 1))
    refused = kringloop(elsewhere, "audit", "check-export", str(out), "--public-key", key, ok=False)
    assert refused.returncode == 1
    assert "INVALID" in refused.stdout


def test_history_lists_every_decision_with_its_mandate(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    lines = as_json(kringloop(tmp_path, "audit", "history", "diaper-recycling", "--json"))
    assert [line["version"] for line in lines] == list(range(1, 19))
    assert lines[0]["mandate"] == "broker-anna for diapers from 2016-01-04, no end"
    table = list(
        csv.DictReader(
            io.StringIO(kringloop(tmp_path, "audit", "history", "diaper-recycling", "--csv").stdout)
        )
    )
    assert table[-1]["step"] == "ImpactReported"


def test_as_of_shows_the_initiative_on_a_past_date(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    then = as_json(
        kringloop(
            tmp_path, "audit", "as-of", "roadside-grass-insulation", "--at", "2017-01-01", "--json"
        )
    )
    assert (then["stage"], then["lead"]) == ("precondition_fulfilment", "GrassFibre BV")
    never = kringloop(
        tmp_path,
        "audit",
        "as-of",
        "roadside-grass-insulation",
        "--at",
        "2017-01-01",
        "--by",
        "recorded",
        ok=False,
    )
    assert "did not exist yet on 2017-01-01 (recorded)" in never.stderr
    progress = {
        t["key"]: t["current"]
        for t in as_json(
            kringloop(
                tmp_path, "programme", "progress", "mra-circular", "--as-of", "2018-01-01", "--json"
            )
        )
    }
    assert progress["chains-redesigned"] == 2
    assert progress["new-jobs"] == 0, "no impact had been reported by 2018"
    assert json.loads(kringloop(tmp_path, "projections", "status", "--json").stdout)
