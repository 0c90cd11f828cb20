"""Reading an export back as a spreadsheet would: CSV through the csv module, XLSX through
openpyxl; and the views with the checks that an export's rows say what the JSON says."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

BOM = b"\xef\xbb\xbf"
Rows = list[dict[str, Any]]


def csv_rows(body: bytes, delimiter: str = ";") -> Rows:
    """A CSV export as dicts by header; asserts the BOM and the delimiter."""
    assert body.startswith(BOM), "UTF-8 with a BOM, so Excel reads the accents"
    text = body[len(BOM) :].decode("utf-8")
    header = text.splitlines()[0]
    assert delimiter in header, f"fields separated by {delimiter!r}"
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def workbook(body: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(body)).active


def xlsx_rows(body: bytes) -> Rows:
    """An XLSX export as dicts by header; asserts the header row and the frozen pane."""
    sheet = workbook(body)
    assert sheet.freeze_panes == "A2", "the header stays in view"
    values = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in values[0]]
    assert all(cell.font.bold for cell in sheet[1])
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def number(value: Any, percent: bool = False) -> float | None:
    """A figure from either export: a typed XLSX cell (percent as a fraction) or CSV text
    with a decimal comma (percent in points)."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        return float(value.replace(",", "."))
    assert isinstance(value, int | float), f"a number cell, not {value!r}"
    assert not isinstance(value, bool)
    return 100 * value if percent else float(value)


def day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value)


def close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and a == pytest.approx(b, rel=1e-9, abs=1e-9)
    )


def check_preconditions(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for entry, row in zip(found, rows, strict=True):
        assert (row["initiative"], row["precondition"]) == (
            entry["initiative_id"],
            entry["precondition"],
        )
        assert day(row["due"]) == (entry["due"] and date.fromisoformat(entry["due"]))
        assert close(number(row["target value"]), entry["target_value"])
        assert row["status"] == entry["status"]


def check_decisions(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for entry, row in zip(found, rows, strict=True):
        assert day(row["effective"]) == date.fromisoformat(entry["effective"])
        assert (row["subject"], row["step"], row["decided by"], row["reason"]) == (
            entry["subject_id"],
            entry["step"],
            entry["actor"],
            entry["reason"],
        )
        assert (row["recorded by"], row["authority"]) == (
            entry["recorded_by"],
            entry["authority"],
        )
        assert number(row["version"]) == entry["version"]


def check_history(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for line, row in zip(found, rows, strict=True):
        assert number(row["version"]) == line["version"]
        assert day(row["effective"]) == date.fromisoformat(line["effective"])
        assert (row["step"], row["decided by"], row["recorded by"], row["authority"]) == (
            line["step"],
            line["actor"],
            line["recorded_by"],
            line["authority"],
        )


def check_categories(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for total, row in zip(found, rows, strict=True):
        assert row["category"] == total["category"]
        assert number(row["organisations"]) == total["organisations"]
        assert close(number(row["total spend (EUR)"]), total["total_spend_eur"])
        assert close(number(row["circular spend (EUR)"]), total["circular_spend_eur"])
        assert close(number(row["investment (EUR)"]), total["investment_eur"])
        share = row["circular share (%)"]
        assert close(number(share, percent=not isinstance(share, str)), total["circular_share"])


def check_communities(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for activity, row in zip(found, rows, strict=True):
        assert row["community"] == activity["community_id"]
        assert (number(row["members"]), number(row["meetings"])) == (
            activity["members"],
            activity["meetings"],
        )
        assert close(number(row["average attendance"]), activity["average_attendance"])
        assert close(number(row["invested (EUR)"]), activity["invested_eur"])


def check_progress(found: Any, rows: Rows) -> None:
    assert len(rows) == len(found) > 0
    for target, row in zip(found, rows, strict=True):
        assert row["key"] == target["key"]
        assert close(number(row["baseline"]), target["baseline"])
        assert close(number(row["current"]), target["current"])
        assert close(number(row["target value"]), target["target"])
        share = row["share reached (%)"]
        assert close(number(share, percent=not isinstance(share, str)), target["share_reached_pct"])
        assert row["source kind"] == target["source_kind"]


def check_pipeline(found: Any, rows: Rows) -> None:
    from domain.values import Stage

    assert [row["stream"] for row in rows] == [r["stream"] for r in found["rows"]]
    for expected, row in zip(found["rows"], rows, strict=True):
        for stage in found["stages"]:
            assert number(row[Stage(stage).label]) == expected["counts"].get(stage, 0)
        assert number(row["stalled"]) == len(expected["stalled"])
        assert number(row["abandoned"]) == len(expected["abandoned"])
    for stage in found["stages"]:
        assert sum(number(row[Stage(stage).label]) or 0 for row in rows) == found["totals"][stage]
    assert sum(found["totals"].values()) > 0


def check_roadmap(found: Any, rows: Rows) -> None:
    expected = [(line, y) for line in found for y in line["years"]]
    assert len(rows) == len(expected) > 0
    for (line, year), row in zip(expected, rows, strict=True):
        assert (row["organisation"], number(row["year"])) == (line["organisation"], year["year"])
        share, milestone = row["circular share (%)"], row["milestone (%)"]
        assert close(number(share, percent=not isinstance(share, str)), year["share"])
        assert close(number(milestone, percent=not isinstance(milestone, str)), year["milestone"])
        assert row["status"] == year["status"]


@dataclass(frozen=True)
class View:
    name: str
    cli: tuple[str, ...]
    api: str
    file_stem: str
    check: Callable[[Any, Rows], None]
    api_params: dict[str, str] = field(default_factory=dict)


PROGRAMME = "/api/programmes/mra-circular"
VIEWS = [
    View(
        "preconditions",
        ("preconditions",),
        "/api/preconditions",
        "preconditions",
        check_preconditions,
    ),
    View("decisions", ("decisions",), "/api/decisions", "decisions", check_decisions),
    View(
        "history",
        ("audit", "history", "diaper-recycling"),
        "/api/audit/initiatives/diaper-recycling/history",
        "history-diaper-recycling",
        check_history,
    ),
    View(
        "categories",
        ("procurement", "categories"),
        f"{PROGRAMME}/procurement/categories",
        "categories-mra-circular",
        check_categories,
    ),
    View(
        "communities",
        ("procurement", "communities"),
        f"{PROGRAMME}/procurement/communities",
        "communities-mra-circular",
        check_communities,
    ),
    View(
        "progress",
        ("programme", "progress", "mra-circular"),
        f"{PROGRAMME}/progress",
        "progress-mra-circular",
        check_progress,
    ),
    View("pipeline", ("pipeline",), "/api/pipeline", "pipeline", check_pipeline),
    View(
        "roadmap",
        ("procurement", "roadmap", "--until", "2022"),
        f"{PROGRAMME}/roadmap",
        "roadmap-mra-circular",
        check_roadmap,
        {"until": "2022"},
    ),
]
