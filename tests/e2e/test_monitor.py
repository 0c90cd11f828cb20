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
    assert demo["share_with_financial_arrangement_pct"] == pytest.approx(60)
    assert demo["procurement_commitments"] == 33
    assert demo["communities_of_practice"] == 3
    assert demo["cop_meetings"] == 18
    assert demo["cop_avg_participants"] == pytest.approx(11, abs=0.5)
    assert demo["procurement_invested_eur"] == 150_000_000


def test_chains_redesigned_counts_the_consortia_not_the_procurement_trajectories(
    regional: tuple[Path, dict[str, object]],
) -> None:
    _, demo = regional
    targets = {t["key"]: t for t in demo["targets"]}  # type: ignore[attr-defined]
    chains = targets["chains-redesigned"]
    assert demo["joint_trajectories"] > 0
    assert chains["current"] == demo["consortia_formed"] == 20
    assert chains["counts"] == "consortia formed"
    assert all(not c["initiative_id"].startswith("trajectory:") for c in chains["contributors"])


def test_the_roadmap_judges_only_the_milestone_years(
    regional: tuple[Path, dict[str, object]],
) -> None:
    home, _ = regional
    lines = as_json(kringloop(home, "procurement", "roadmap", "--until", "2024", "--json"))
    assert len(lines) == 33
    for line in lines:
        assert line["open_goal"] == 100  # "as soon as possible after": no invented year
        for year in line["years"]:
            if year["year"] != 2022:
                assert year["milestone"] is None
                assert year["status"] == "no milestone"
                continue
            assert year["milestone"] == 10
            if year["share"] is None:
                assert year["status"] == "no report"
            else:
                met = round(year["share"], 1) >= 10
                assert year["status"] == ("milestone met" if met else "milestone missed")
        milestone_2022 = next(y for y in line["years"] if y["year"] == 2022)
        assert line["latest_status"] == milestone_2022["status"]


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


def test_twenty_consortia_stand_formed_by_the_end_of_2018(
    regional: tuple[Path, dict[str, object]],
) -> None:
    home, _ = regional
    progress = as_json(
        kringloop(home, "programme", "progress", "mra-circular", "--as-of", "2018-12-31", "--json")
    )
    chains = next(t for t in progress if t["key"] == "chains-redesigned")
    assert chains["current"] == 20, "the source: twenty consortia in four years (2015-2018)"
    earlier = as_json(
        kringloop(home, "programme", "progress", "mra-circular", "--as-of", "2017-12-31", "--json")
    )
    assert next(t for t in earlier if t["key"] == "chains-redesigned")["current"] < 20
