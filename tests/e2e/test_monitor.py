"""The programme monitor: the regional scenario as the demo, its figures checked against the
source's, and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json, kringloop


@pytest.fixture(scope="module")
def regional(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    home = tmp_path_factory.mktemp("regional")
    return home, as_json(kringloop(home, "demo", "--fresh", "--json"))


def test_the_demo_figures_are_the_sources(regional: tuple[Path, dict[str, object]]) -> None:
    _, demo = regional
    assert demo["consortia_formed"] == 20
    assert demo["share_with_financial_arrangement"] == pytest.approx(0.6)
    assert demo["procurement_commitments"] == 33
    assert demo["communities_of_practice"] == 3
    assert demo["cop_meetings"] == 18
    assert demo["cop_avg_participants"] == pytest.approx(11, abs=0.5)
    assert demo["procurement_invested_eur"] == 150_000_000


def test_the_dashboard_counts_chains_redesigned_through_procurement_too(
    regional: tuple[Path, dict[str, object]],
) -> None:
    _, demo = regional
    targets = {t["key"]: t for t in demo["targets"]}  # type: ignore[attr-defined]
    assert targets["chains-redesigned"]["current"] == 20 + demo["joint_trajectories"]


def test_the_roadmap_shows_who_is_behind_their_path(
    regional: tuple[Path, dict[str, object]],
) -> None:
    home, _ = regional
    lines = as_json(kringloop(home, "procurement", "roadmap", "--until", "2024", "--json"))
    assert len(lines) == 33
    for line in lines:
        latest = next(y for y in reversed(line["years"]) if y["share"] is not None)
        expected = "on track" if latest["share"] >= latest["target"] else "behind"
        assert line["latest_status"] == expected


def test_the_report_writes_charts_and_an_offline_page(
    regional: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    home, _ = regional
    written = as_json(kringloop(home, "report", "--out", str(tmp_path / "report"), "--json"))
    names = sorted(Path(p).name for p in written["files"])
    assert names == ["index.html", "pipeline.png", "procurement.png", "report.pdf", "targets.png"]
    for name in names:
        assert (tmp_path / "report" / name).stat().st_size > 1000
    page = (tmp_path / "report" / "index.html").read_text()
    assert '<img src="targets.png"' in page
    assert "http" not in page, "the page opens offline: no remote asset"
