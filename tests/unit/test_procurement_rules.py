"""Circular procurement rules, in the domain's words."""

from __future__ import annotations

import pytest

from domain.errors import NoAuthorityError, NotFoundError, RuleError
from tests.conftest import Run
from tests.scenario import PROGRAMME, programme

PATH = [{"year": 2022, "share": 10}, {"year": 2025, "share": 50}, {"year": 2030, "share": 100}]


@pytest.fixture
def committed(run: Run) -> Run:
    programme(run)
    run(
        "grant-role",
        identity="Haarlem",
        role="organisation",
        organisation="Haarlem",
        effective="2019-01-01",
        actor="board",
    )
    run(
        "commit",
        commitment_id="haarlem",
        programme_id=PROGRAMME,
        organisation="Haarlem",
        organisation_kind="municipality",
        path=PATH,
        effective="2019-10-01",
        actor="Haarlem",
    )
    return run


def test_a_spend_report_with_circular_spend_above_total_spend_is_refused(
    committed: Run,
) -> None:
    with pytest.raises(
        RuleError,
        match=r"circular spend \(EUR 2,000\) cannot exceed total "
        r"spend \(EUR 1,000\)",
    ):
        committed(
            "report-spend",
            commitment_id="haarlem",
            year=2020,
            category="catering",
            total_spend_eur=1000,
            circular_spend_eur=2000,
            actor="Haarlem",
        )


def test_a_spend_report_for_a_year_before_the_commitment_is_refused(committed: Run) -> None:
    with pytest.raises(
        RuleError, match="cannot report spend for 2018: 'Haarlem' committed in 2019"
    ):
        committed(
            "report-spend",
            commitment_id="haarlem",
            year=2018,
            category="catering",
            total_spend_eur=1000,
            circular_spend_eur=100,
            actor="Haarlem",
        )


def test_a_path_whose_share_falls_is_refused(run: Run) -> None:
    programme(run)
    with pytest.raises(RuleError, match="must not fall"):
        run(
            "commit",
            commitment_id="x",
            programme_id=PROGRAMME,
            organisation="X",
            organisation_kind="company",
            path=[{"year": 2022, "share": 50}, {"year": 2025, "share": 10}],
            actor="board",
        )


def test_only_members_attend_community_meetings(run: Run) -> None:
    programme(run)
    run(
        "found-community",
        community_id="cop",
        programme_id=PROGRAMME,
        name="CoP",
        moderator="Board",
        effective="2017-03-01",
        actor="board",
    )
    run("join-community", community_id="cop", organisation="Haarlem", actor="board")
    with pytest.raises(NotFoundError, match="not members of community 'cop': Zaanstad"):
        run(
            "hold-meeting",
            community_id="cop",
            meeting=1,
            attendees=["Haarlem", "Zaanstad"],
            actor="board",
        )


def test_a_joint_trajectory_needs_two_participants(run: Run) -> None:
    programme(run)
    run(
        "found-community",
        community_id="cop",
        programme_id=PROGRAMME,
        name="CoP",
        moderator="Board",
        effective="2017-03-01",
        actor="board",
    )
    run("join-community", community_id="cop", organisation="Haarlem", actor="board")
    with pytest.raises(RuleError, match="at least two participants"):
        run(
            "start-trajectory",
            community_id="cop",
            trajectory="solo",
            category="catering",
            participants=["Haarlem", "Haarlem"],
            actor="board",
        )


def test_only_the_last_step_of_a_path_can_be_an_open_goal(run: Run) -> None:
    programme(run)
    with pytest.raises(RuleError, match="only the path's last step can be an open goal"):
        run(
            "commit",
            commitment_id="x",
            programme_id=PROGRAMME,
            organisation="X",
            organisation_kind="company",
            path=[{"share": 10}, {"year": 2025, "share": 50}],
            actor="board",
        )


def test_a_target_counts_procurement_trajectories_only_if_measured_as_chains(run: Run) -> None:
    programme(run)
    with pytest.raises(RuleError, match="only a target measured by chains_redesigned"):
        run(
            "set-target",
            programme_id=PROGRAMME,
            key="jobs",
            unit="FTE",
            baseline=0,
            target=2000,
            deadline="2025-12-31",
            measure="jobs_fte",
            include_procurement_trajectories=True,
            actor="board",
        )


def test_an_organisation_user_reports_only_its_own_spend(committed: Run) -> None:
    committed(
        "commit",
        commitment_id="zaanstad",
        programme_id=PROGRAMME,
        organisation="Zaanstad",
        organisation_kind="municipality",
        path=PATH,
        effective="2019-10-01",
        actor="board",
    )
    with pytest.raises(NoAuthorityError, match="'Haarlem' may not decide for 'Zaanstad'"):
        committed(
            "report-spend",
            commitment_id="zaanstad",
            year=2020,
            category="catering",
            total_spend_eur=1000,
            circular_spend_eur=100,
            actor="Haarlem",
        )
