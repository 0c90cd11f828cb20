"""The read models in the domain's words, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from domain.engine import Engine
from domain.values import Stage
from projections import queries
from projections.progress import programme_progress
from projections.runner import Runner
from projections.store import ReadStore
from tests.conftest import TODAY, Run, runner
from tests.scenario import a_target, initiative_at, programme


@pytest.fixture
def run(stored_engine: Engine) -> Run:
    run = runner(stored_engine)
    programme(run)
    return run


def fresh(read_runner: Runner) -> ReadStore:
    read_runner.catch_up()
    return read_runner.store


def open_register(read_runner: Runner) -> list[str]:
    return [p.precondition for p in queries.register(fresh(read_runner), TODAY, status="open")]


def test_an_initiative_whose_last_precondition_is_waived_leaves_the_open_list(
    run: Run, read_runner: Runner
) -> None:
    initiative_at(run, Stage.PRECONDITION_FULFILMENT)
    run("fulfil-precondition", initiative_id="grass", precondition="volume", evidence=["c.pdf"])
    assert open_register(read_runner) == ["offtake"]
    run("waive-precondition", initiative_id="grass", precondition="offtake")
    assert open_register(read_runner) == []
    (summary,) = queries.list_initiatives(fresh(read_runner), TODAY)
    assert summary.open_preconditions == 0


def test_a_fulfilled_precondition_shows_its_evidence(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.PRECONDITION_FULFILMENT)
    run(
        "fulfil-precondition",
        initiative_id="grass",
        precondition="volume",
        evidence=["contract.pdf", "sha256:ab12"],
        reason="contracts signed",
    )
    (entry,) = queries.register(fresh(read_runner), TODAY, status="fulfilled")
    assert (entry.evidence, entry.resolution) == (
        ["contract.pdf", "sha256:ab12"],
        "contracts signed",
    )


def test_an_open_precondition_past_its_due_date_is_overdue(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.PRECONDITION_FULFILMENT)
    run(
        "register-precondition",
        initiative_id="grass",
        precondition="permit",
        kind="permit",
        responsible="Omgevingsdienst",
        due="2017-01-01",
        effective="2016-01-01",
    )
    overdue = queries.register(fresh(read_runner), TODAY, overdue=True)
    assert [p.precondition for p in overdue] == ["permit"]
    assert queries.register(fresh(read_runner), TODAY, responsible="Omgevingsdienst")[0].overdue


def test_falling_back_drops_open_preconditions_from_the_register(
    run: Run, read_runner: Runner
) -> None:
    initiative_at(run, Stage.PRECONDITION_FULFILMENT)
    run("fail-precondition", initiative_id="grass", precondition="offtake")
    run("fall-back", initiative_id="grass", to_stage="market_consultation")
    assert open_register(read_runner) == []
    statuses = {p.status for p in queries.register(fresh(read_runner), TODAY)}
    assert statuses == {"dropped"}
    (summary,) = queries.list_initiatives(fresh(read_runner), TODAY)
    assert (summary.stage, summary.lead) == ("market_consultation", None)


def test_the_pipeline_folds_sub_streams_into_their_stream_and_counts_active_only(
    run: Run, read_runner: Runner
) -> None:
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="grass")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="grass-two")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="grass-three")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="grass-four")
    run("stall", initiative_id="grass-three", reason="waiting for the permit")
    run("abandon", initiative_id="grass-four", reason="no processor")
    board = queries.pipeline(fresh(read_runner))
    rows = {r.stream: r for r in board.rows}
    assert "roadside-grass" not in rows, "a sub-stream counts in its stream"
    biomass = rows["biomass"]
    assert "roadside-grass" in biomass.substreams
    assert biomass.initiatives == {"expert_scan": ["grass-two"], "consortium_formed": ["grass"]}
    assert biomass.counts == {"expert_scan": 1, "consortium_formed": 1}
    assert (biomass.stalled, biomass.abandoned) == (["grass-three"], ["grass-four"])
    assert board.totals["expert_scan"] == 1
    assert (board.stalled, board.abandoned) == (1, 1)
    assert "textiles" in rows


def test_list_filters_by_stream_including_its_sub_streams(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.PROPOSED)
    run(
        "propose-initiative",
        initiative_id="biomass-hub",
        programme_id="mra",
        stream="biomass",
        title="Hub",
        effective="2016-01-01",
    )
    reads = fresh(read_runner)
    assert [s.id for s in queries.list_initiatives(reads, TODAY, stream="biomass")] == [
        "biomass-hub",
        "grass",
    ]
    assert [s.id for s in queries.list_initiatives(reads, TODAY, sub_stream="roadside-grass")] == [
        "grass"
    ]


def test_list_finds_initiatives_stalled_longer_than_n_days(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="grass", effective="2016-01-01")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="recent", effective="2016-01-01")
    run("stall", initiative_id="grass", reason="waiting", effective="2016-02-01")
    run(
        "stall",
        initiative_id="recent",
        reason="waiting",
        effective=(TODAY.replace(day=1)).isoformat(),
    )
    stalled = queries.list_initiatives(fresh(read_runner), TODAY, stalled_days=30)
    assert [s.id for s in stalled] == ["grass"]


def test_list_filters_by_a_broker_who_decided(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.PROPOSED, initiative_id="grass")
    run(
        "grant-mandate",
        programme_id="mra",
        broker="broker-bas",
        streams=["textiles"],
        actor="board",
        effective="2015-03-01",
    )
    run(
        "propose-initiative",
        initiative_id="jeans",
        programme_id="mra",
        stream="textiles",
        title="Jeans",
        actor="broker-bas",
        effective="2016-01-01",
    )
    found = queries.list_initiatives(fresh(read_runner), TODAY, broker="broker-bas")
    assert [s.id for s in found] == ["jeans"]


def test_progress_counts_formed_consortia_and_high_value_streams(
    run: Run, read_runner: Runner
) -> None:
    for key, measure in (
        ("chains", "consortia_formed"),
        ("streams", "streams_recycled_high_value"),
        ("jobs", "jobs_fte"),
    ):
        run(
            "set-target",
            **a_target(key, "n", 10),
            measure=measure,
            actor="board",
            effective="2015-06-01",
        )
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="grass")
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="grass-two")
    initiative_at(run, Stage.EXPERT_SCAN, initiative_id="grass-three")
    run("report-impact", initiative_id="grass", period=2017, jobs_fte=4)
    run("report-impact", initiative_id="grass", period=2018, jobs_fte=6)
    run("report-impact", initiative_id="grass-two", period=2018, jobs_fte=1.5)
    progress = {t.key: t for t in programme_progress(fresh(read_runner), "mra")}
    assert progress["chains"].current == 2
    assert progress["streams"].current == 1, "two initiatives on one stream count once"
    assert progress["jobs"].current == 7.5, "each initiative's latest year, summed"
    assert progress["jobs"].share_reached_pct == pytest.approx(75)
    assert progress["jobs"].source_kind == "recorded decisions"
    assert [c.initiative_id for c in progress["chains"].contributors] == ["grass", "grass-two"]


def test_procurement_trajectories_count_towards_chains_only_where_the_programme_decided(
    run: Run, read_runner: Runner
) -> None:
    for key, include in (("chains", False), ("chains-and-buying", True)):
        run(
            "set-target",
            **a_target(key, "chains", 20),
            measure="chains_redesigned",
            include_procurement_trajectories=include,
            actor="board",
            effective="2015-06-01",
        )
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="grass")
    run(
        "found-community",
        community_id="cop",
        programme_id="mra",
        name="CoP",
        moderator="Board",
        actor="board",
        effective="2016-03-01",
    )
    for organisation in ("Haarlem", "Zaanstad"):
        run("join-community", community_id="cop", organisation=organisation, actor="board")
    run(
        "start-trajectory",
        community_id="cop",
        trajectory="catering",
        category="catering",
        participants=["Haarlem", "Zaanstad"],
        actor="board",
    )
    progress = {t.key: t for t in programme_progress(fresh(read_runner), "mra")}
    assert (progress["chains"].current, progress["chains"].counts) == (1, "consortia formed")
    both = progress["chains-and-buying"]
    assert (both.current, both.counts) == (2, "consortia + joint procurement trajectories")
    assert both.share_reached_pct == pytest.approx(10)


def test_progress_shows_programme_measurements_for_targets_without_a_measure(
    run: Run, read_runner: Runner
) -> None:
    run(
        "set-target",
        **a_target("imports", "% vs 2015", -20),
        actor="board",
        effective="2015-06-01",
    )
    run(
        "record-target-measurement",
        programme_id="mra",
        key="imports",
        value=-5,
        source="monitor 2019",
        actor="board",
        effective="2019-06-30",
    )
    (target,) = programme_progress(fresh(read_runner), "mra")
    assert (target.current, target.share_reached_pct) == (-5, 25)
    assert target.source_kind == "programme measurement"
    assert target.measured_by == "programme measurement of 2019-06-30 (monitor 2019)"


def test_the_decision_log_is_searchable(run: Run, read_runner: Runner) -> None:
    initiative_at(run, Stage.EXPERT_SCAN)
    run(
        "stall",
        initiative_id="grass",
        reason="Experts on holiday",
        effective="2016-08-01",
    )
    reads = fresh(read_runner)
    found = queries.decision_log(reads, text="holiday")
    assert [(d.step, d.subject_id, d.effective) for d in found] == [
        ("stalled", "grass", date(2016, 8, 1))
    ]
    assert {d.actor for d in queries.decision_log(reads, actor="board")} == {"board"}
    assert len(queries.decision_log(reads, step="stalled")) == 1
    assert queries.decision_log(reads, since=date(2016, 6, 1)) == found


def test_reads_wait_for_a_write(run: Run, read_runner: Runner, stored_engine: Engine) -> None:
    initiative_at(run, Stage.PROPOSED)
    read_runner.catch_up()
    outcome = run("start-expert-scan", initiative_id="grass", effective="2016-01-01")
    read_runner.wait_for(outcome.notification_id)
    (summary,) = queries.list_initiatives(read_runner.store, TODAY)
    assert summary.stage == "expert_scan"
    assert read_runner.status().lag == 0


def test_read_models_written_by_an_older_version_are_rebuilt_from_the_events(
    run: Run, read_runner: Runner
) -> None:
    initiative_at(run, Stage.CONSORTIUM_FORMED, initiative_id="grass")
    read_runner.catch_up()
    store = read_runner.store
    with store.engine.begin() as conn:  # as an older version left it: no such column yet
        conn.exec_driver_sql("ALTER TABLE initiatives DROP COLUMN operating_from")
    assert store.outdated_tables() == ["initiatives"]
    store.create()
    assert store.outdated_tables() == []
    assert read_runner.position() == 0, "the read position went with the old tables"
    read_runner.catch_up()
    (summary,) = queries.list_initiatives(store, TODAY)
    assert (summary.id, summary.stage) == ("grass", "consortium_formed")
