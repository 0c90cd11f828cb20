"""Writes regional.jsonl: the Amsterdam-region programme as the source describes it (run
`python -m adapters.scenarios.regional > adapters/scenarios/regional.jsonl`).

Figures from the source: nine streams; twenty initiatives reaching a consortium, 60 % of
them with a new financial arrangement; phase 3 from 2019; three communities of practice
with six meetings each and eleven participants on average; 31 municipalities and both
provinces committed to 10 % circular procurement in 2022, 50 % in 2025, 100 % after; EUR 150
million invested by the first two communities. Everything else is plausible, not sourced.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

P = "mra-circular"
BOARD = "board-secretariat"
BROKERS = {
    "broker-anna": ["biomass", "diapers", "mattresses"],
    "broker-bas": ["construction", "textiles", "plastics"],
    "broker-chris": ["electronics", "data-centre-servers", "metals"],
}
STREAMS = {
    "biomass": ("Biomass", ["roadside-grass", "vegetable-fruit-garden-waste", "sewage-sludge"]),
    "construction": ("Construction materials", ["concrete-and-paving", "timber"]),
    "electronics": ("Electrical and electronic products", ["household-weee", "fridges"]),
    "textiles": ("Textiles no longer wearable", ["workwear", "fibre-to-fibre"]),
    "plastics": ("Plastics", ["mixed-packaging"]),
    "diapers": ("Diapers and incontinence material", []),
    "mattresses": ("Mattresses", []),
    "data-centre-servers": ("Data-centre servers", []),
    "metals": ("Metals", []),
}
MUNICIPALITIES = [
    "Aalsmeer",
    "Almere",
    "Amstelveen",
    "Amsterdam",
    "Beverwijk",
    "Blaricum",
    "Bloemendaal",
    "Diemen",
    "Edam-Volendam",
    "Gooise Meren",
    "Haarlem",
    "Haarlemmermeer",
    "Heemskerk",
    "Heemstede",
    "Hilversum",
    "Huizen",
    "Landsmeer",
    "Laren",
    "Lelystad",
    "Oostzaan",
    "Ouder-Amstel",
    "Purmerend",
    "Uitgeest",
    "Uithoorn",
    "Velsen",
    "Waterland",
    "Weesp",
    "Wijdemeren",
    "Wormerland",
    "Zaanstad",
    "Zandvoort",
    "Eemnes",
]
PROVINCES = ["Provincie Noord-Holland", "Provincie Flevoland"]
CATEGORIES = [
    "construction",
    "office-furnishing",
    "catering",
    "ict",
    "traffic-signs",
    "asphalt",
    "concrete-paving",
]

# (id, broker, stream, title, option, R-level, lead, partners, arrangement?, fate, start year)
INITIATIVES = [
    (
        "roadside-grass-insulation",
        "broker-anna",
        "roadside-grass",
        "Roadside grass to insulation mats",
        "fibre-insulation",
        "R8",
        "GrassFibre BV",
        ["Port of Amsterdam", "Rijkswaterstaat", "Waterschap AGV"],
        True,
        "scaled",
        2016,
    ),
    (
        "diaper-recycling",
        "broker-anna",
        "diapers",
        "Diaper recycling plant",
        "diaper-plastics-recovery",
        "R8",
        "DiaperCycle BV",
        ["Gemeente Amsterdam", "AEB"],
        True,
        "scaled",
        2016,
    ),
    (
        "gft-biogas-compost",
        "broker-anna",
        "vegetable-fruit-garden-waste",
        "Garden waste to compost and green gas",
        "digest-and-compost",
        "R8",
        "Orgaworld",
        ["Gemeente Haarlem", "Gemeente Zaanstad"],
        False,
        "withdrawn",
        2016,
    ),
    (
        "sludge-phosphate",
        "broker-anna",
        "sewage-sludge",
        "Phosphate from sewage sludge",
        "struvite-recovery",
        "R8",
        "Waternet",
        ["ICL Fertilizers", "Wageningen UR"],
        True,
        "withdrawn",
        2017,
    ),
    (
        "mattress-loop",
        "broker-anna",
        "mattresses",
        "Mattress dismantling and foam recycling",
        "foam-recycling",
        "R8",
        "MattressLoop BV",
        ["Retail association", "Renewi"],
        True,
        "withdrawn",
        2016,
    ),
    (
        "concrete-circular",
        "broker-bas",
        "concrete-and-paving",
        "Concrete granulate back into concrete",
        "smart-crusher",
        "R8",
        "Rutte Groep",
        ["Gemeente Amsterdam", "Heijmans"],
        True,
        "scaled",
        2016,
    ),
    (
        "timber-reuse",
        "broker-bas",
        "timber",
        "Reuse of demolition timber",
        "timber-grading",
        "R3",
        "Timber Loop",
        ["Gemeente Amsterdam", "Stadsdeel Nieuw-West"],
        False,
        "withdrawn",
        2017,
    ),
    (
        "workwear-recycling",
        "broker-bas",
        "workwear",
        "Workwear fibre-to-fibre",
        "workwear-fibres",
        "R8",
        "Wieland Textiles",
        ["Schiphol", "Gemeente Amsterdam"],
        True,
        "withdrawn",
        2017,
    ),
    (
        "textile-sorting-hub",
        "broker-bas",
        "textiles",
        "Regional textile pre-sorting hub",
        "pre-sorting",
        "R3",
        "Sympany",
        ["Gemeente Haarlemmermeer", "Leger des Heils ReShare"],
        False,
        "formed",
        2017,
    ),
    (
        "plastic-polymer-sorting",
        "broker-bas",
        "mixed-packaging",
        "Per-polymer sorting of mixed packaging",
        "nir-sorting",
        "R8",
        "Renewi",
        ["Gemeente Almere", "Plastic Recycling Amsterdam"],
        True,
        "withdrawn",
        2017,
    ),
    (
        "weee-sorting",
        "broker-chris",
        "household-weee",
        "Household electronics sorting",
        "weee-sorting-line",
        "R6",
        "Coolrec",
        ["Wecycle", "Gemeente Amstelveen"],
        True,
        "withdrawn",
        2016,
    ),
    (
        "fridge-recovery",
        "broker-chris",
        "fridges",
        "Fridge refrigerant and metal recovery",
        "fridge-line",
        "R7",
        "Coolrec",
        ["Wecycle", "Stena Recycling"],
        False,
        "withdrawn",
        2017,
    ),
    (
        "server-refurbishment",
        "broker-chris",
        "data-centre-servers",
        "Refurbishing data-centre servers",
        "refurbish",
        "R5",
        "Evernex",
        ["Equinix", "Gemeente Haarlemmermeer"],
        True,
        "scaled",
        2016,
    ),
    (
        "server-harvesting",
        "broker-chris",
        "data-centre-servers",
        "Harvesting server components",
        "component-harvest",
        "R6",
        "Arrow ITAD",
        ["Digital Realty", "TU Delft"],
        False,
        "withdrawn",
        2018,
    ),
    (
        "metal-urban-mining",
        "broker-chris",
        "metals",
        "Urban mining of metals",
        "metal-separation",
        "R8",
        "Van Dalen",
        ["Gemeente Amsterdam", "Port of Amsterdam"],
        True,
        "withdrawn",
        2017,
    ),
    (
        "biomass-chemicals",
        "broker-anna",
        "roadside-grass",
        "Grass juice to chemicals",
        "biorefinery",
        "R8",
        "NewFoss",
        ["Provincie Noord-Holland", "Wageningen UR"],
        False,
        "formed",
        2018,
    ),
    (
        "asphalt-reuse",
        "broker-bas",
        "concrete-and-paving",
        "Asphalt reused in new roads",
        "warm-recycling",
        "R8",
        "BAM Infra",
        ["Provincie Noord-Holland", "Rijkswaterstaat"],
        True,
        "withdrawn",
        2018,
    ),
    (
        "office-furniture-loop",
        "broker-bas",
        "timber",
        "Office furniture refurbished",
        "refurbish-furniture",
        "R5",
        "Ahrend",
        ["Gemeente Amsterdam", "Rabobank"],
        False,
        "withdrawn",
        2018,
    ),
    (
        "ict-device-reuse",
        "broker-chris",
        "household-weee",
        "Reuse of public-sector ICT",
        "device-refurbish",
        "R3",
        "Leapp",
        ["Gemeente Almere", "Gemeente Zaanstad"],
        True,
        "withdrawn",
        2018,
    ),
    (
        "metal-scrap-steel",
        "broker-chris",
        "metals",
        "Scrap to green steel",
        "scrap-sorting",
        "R8",
        "Tata Steel",
        ["Port of Amsterdam", "Van Dalen"],
        False,
        "withdrawn",
        2018,
    ),
    # side paths: never (yet) a consortium
    (
        "textile-chemical",
        "broker-bas",
        "fibre-to-fibre",
        "Chemical recycling of cotton",
        "chemical-recycling",
        "R8",
        None,
        [],
        False,
        "abandoned",
        2016,
    ),
    (
        "mixed-plastics-pyrolysis",
        "broker-bas",
        "plastics",
        "Pyrolysis of mixed plastics",
        "pyrolysis",
        "R9",
        None,
        [],
        False,
        "abandoned",
        2017,
    ),
    (
        "mattress-foam-chemical",
        "broker-anna",
        "mattresses",
        "Chemical foam recycling",
        "foam-glycolysis",
        "R8",
        "FoamCo",
        [],
        False,
        "stalled",
        2018,
    ),
    (
        "sludge-bioplastics",
        "broker-anna",
        "sewage-sludge",
        "Bioplastics from sludge",
        "pha-production",
        "R8",
        "Bioplastic Amsterdam",
        [],
        False,
        "fallback",
        2018,
    ),
    (
        "metals-ewaste-gold",
        "broker-chris",
        "metals",
        "Precious metals from e-waste",
        "hydrometallurgy",
        "R8",
        None,
        [],
        False,
        "scan",
        2020,
    ),
]


class Scenario:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def add(
        self,
        command: str,
        effective: str,
        actor: str,
        reason: str,
        evidence: list[str] | None = None,
        **fields: Any,
    ) -> None:
        self.lines.append(
            {
                "command": command,
                "actor": actor,
                "reason": reason,
                "evidence": evidence or [],
                "effective": effective,
                **fields,
            }
        )


def programme(s: Scenario) -> None:
    members = ["Amsterdam Economic Board", *MUNICIPALITIES, *PROVINCES]
    s.add(
        "create-programme",
        "2015-01-15",
        BOARD,
        "Board and MRA agree to start the circular-economy programme",
        ["board-minutes-2015-01"],
        programme_id=P,
        name="Circular Economy, Amsterdam Metropolitan Area",
        region="MRA",
        members=members,
    )
    s.add(
        "record-phase-change",
        "2015-01-15",
        BOARD,
        "Consultation rounds with governments, companies and knowledge institutes begin",
        programme_id=P,
        phase=1,
        phase_status="started",
    )
    s.add(
        "record-phase-change",
        "2015-06-01",
        BOARD,
        "First initiatives start while the outline is finalised",
        programme_id=P,
        phase=2,
        phase_status="started",
    )
    s.add(
        "record-phase-change",
        "2015-12-10",
        BOARD,
        "Outline approved by the Board and by the MRA",
        ["outline-v3.pdf"],
        programme_id=P,
        phase=1,
        phase_status="approved",
        approved_by=["Amsterdam Economic Board", "MRA"],
    )
    for key, desc, unit, target, measure in [
        ("raw-material-imports", "Raw-material imports", "% change vs 2015", -20, None),
        (
            "chains-redesigned",
            "Product/material chains redesigned",
            "chains",
            20,
            "chains_redesigned",
        ),
        (
            "streams-recycled-high-value",
            "Resource streams recycled at high value",
            "streams",
            40,
            "streams_recycled_high_value",
        ),
        ("new-jobs", "New jobs", "FTE", 2000, "jobs_fte"),
        ("new-companies", "New (startup) companies", "companies", 150, "companies_started"),
        ("environmental-pressure", "Environmental pressure", "% change vs 2015", -35, None),
    ]:
        s.add(
            "set-target",
            "2015-12-10",
            BOARD,
            "Target agreed in the programme outline",
            ["outline-v3.pdf"],
            programme_id=P,
            key=key,
            description=desc,
            unit=unit,
            baseline=0,
            target=target,
            deadline="2025-12-31",
            source="Amsterdam Economic Board programme outline",
            **({"measure": measure} if measure else {}),
        )
    for stream, (name, subs) in STREAMS.items():
        s.add(
            "register-stream",
            "2015-12-15",
            BOARD,
            "Stream prioritised by the network",
            programme_id=P,
            stream=stream,
            name=name,
        )
        for sub in subs:
            s.add(
                "register-stream",
                "2015-12-15",
                BOARD,
                "Sub-stream with interested parties",
                programme_id=P,
                stream=sub,
                name=sub.replace("-", " ").capitalize(),
                parent=stream,
            )
    for broker, streams in BROKERS.items():
        s.add(
            "grant-mandate",
            "2016-01-04",
            BOARD,
            "Broker team mandated by the Board",
            ["mandate-letter-2016-01"],
            programme_id=P,
            broker=broker,
            streams=streams,
        )
    s.add(
        "grant-mandate",
        "2019-01-07",
        BOARD,
        "The scheduled phase-3 check covers every stream",
        programme_id=P,
        broker="scheduler:phase-3-check",
        streams=["all"],
    )
    s.add(
        "set-scale-up-criteria",
        "2019-01-07",
        BOARD,
        "Phase-3 criteria agreed",
        ["phase-3-note.pdf"],
        programme_id=P,
        min_months_operating=18,
        min_tonnes_per_year=5000,
        min_jobs_fte=5,
        no_open_risks=True,
    )
    s.add(
        "record-phase-change",
        "2019-01-07",
        BOARD,
        "Scale-up phase starts for initiatives that led to new business",
        programme_id=P,
        phase=3,
        phase_status="started",
    )
    s.add(
        "record-target-measurement",
        "2021-06-30",
        BOARD,
        "Regional material-flow monitor published (illustrative figure)",
        ["material-flow-monitor-2021.pdf"],
        programme_id=P,
        key="raw-material-imports",
        value=-6,
        source="regional material-flow monitor 2021",
    )


def initiative(s: Scenario, rng: random.Random, spec: tuple[Any, ...]) -> None:
    (iid, broker, stream, title, option, level, lead, partners, arrangement, fate, year) = spec
    i: dict[str, Any] = {"initiative_id": iid}

    last = [""]

    def d(month: int) -> str:
        """A day in the ``month``-th month from the start year, never before the last."""
        y, m = year + (month - 1) // 12, (month - 1) % 12 + 1
        last[0] = max(last[0], f"{y}-{m:02d}-{rng.randint(1, 25):02d}")
        return last[0]

    s.add(
        "propose-initiative",
        d(2),
        broker,
        f"{title}: a large discarded stream",
        programme_id=P,
        stream=stream,
        title=title,
        **i,
    )
    s.add("start-expert-scan", d(2), broker, "Experts invited to map the options", **i)
    s.add(
        "record-innovative-option",
        d(4),
        broker,
        "Option from the expert scan",
        option=option,
        description=title,
        circularity_level=level,
        expert="TNO",
        **i,
    )
    if fate == "scan":
        return
    s.add(
        "complete-expert-scan",
        d(5),
        broker,
        "Most promising option chosen",
        [f"{iid}-scan.pdf"],
        chosen_options=[option],
        **i,
    )
    s.add("open-market-consultation", d(6), broker, "Who wants to invest and lead?", **i)
    if lead is None:
        s.add(
            "record-consultation-response",
            d(8),
            broker,
            "Interested, will not lead",
            company="Interested Investor BV",
            willing_to_invest=True,
            willing_to_lead=False,
            **i,
        )
        s.add(
            "abandon-initiative",
            d(12),
            broker,
            "No company willing to lead a consortium; technology not mature",
            [f"{iid}-consultation.pdf"],
            **i,
        )
        return
    s.add(
        "record-consultation-response",
        d(8),
        broker,
        "Willing to lead under conditions",
        company=lead,
        willing_to_invest=True,
        willing_to_lead=True,
        stated_preconditions=["guaranteed volume", "offtake quality"],
        **i,
    )
    s.add(
        "close-market-consultation",
        d(9),
        broker,
        f"{lead} selected as lead",
        [f"{iid}-consultation.pdf"],
        lead=lead,
        **i,
    )
    volume = rng.choice([5_000, 10_000, 20_000, 50_000])
    s.add(
        "register-precondition",
        d(9),
        broker,
        f"Stated by {lead}",
        precondition="volume",
        kind="guaranteed_volume",
        responsible=partners[0] if partners else "Gemeente Amsterdam",
        due=d(15),
        target_value=volume,
        target_unit="t/yr",
        **i,
    )
    s.add(
        "register-precondition",
        d(9),
        broker,
        f"Stated by {lead}",
        precondition="offtake",
        kind="offtake_quality",
        responsible=lead,
        due=d(16),
        **i,
    )
    if fate == "stalled":
        s.add(
            "fulfil-precondition",
            d(12),
            broker,
            "Volume contract signed",
            [f"{iid}-volume.pdf"],
            precondition="volume",
            **i,
        )
        s.add(
            "stall-initiative",
            d(13),
            broker,
            "Waiting for the producer-responsibility scheme to settle who owns the waste",
            **i,
        )
        return
    if fate == "fallback":
        s.add(
            "record-precondition-failed",
            d(14),
            broker,
            "No offtaker accepts the quality yet",
            ["lab-report.pdf"],
            precondition="offtake",
            **i,
        )
        s.add(
            "fall-back",
            d(15),
            broker,
            "Back to the market for another lead",
            to_stage="market_consultation",
            **i,
        )
        return
    s.add(
        "fulfil-precondition",
        d(12),
        broker,
        "Volume contracts signed",
        [f"{iid}-volume-contracts.pdf"],
        precondition="volume",
        **i,
    )
    s.add(
        "fulfil-precondition",
        d(13),
        broker,
        "Offtake agreement signed",
        [f"{iid}-offtake.pdf"],
        precondition="offtake",
        **i,
    )
    members = [(lead, "lead")] + [
        (
            p,
            rng.choice(
                [
                    "collector",
                    "processor",
                    "offtaker",
                    "municipality",
                    "financier",
                    "knowledge_institute",
                ]
            ),
        )
        for p in partners
    ]
    for org, role in members:
        s.add(
            "admit-consortium-member",
            d(14),
            broker,
            f"{org} joins as {role}",
            organisation=org,
            role=role,
            **i,
        )
    if arrangement:
        share = round(100 / len(members), 2)
        shares = [{"party": org, "cost_share": share, "benefit_share": share} for org, _ in members]
        shares[-1] = {
            **shares[-1],
            "cost_share": round(100 - share * (len(members) - 1), 2),
            "benefit_share": round(100 - share * (len(members) - 1), 2),
        }
        s.add(
            "agree-financial-arrangement",
            d(15),
            broker,
            "Costs and benefits shared in proportion",
            [f"{iid}-term-sheet.pdf"],
            arrangement_type=rng.choice(["joint venture", "offtake contract", "gain share"]),
            shares=shares,
            **i,
        )
    else:
        s.add("declare-no-financial-arrangement", d(15), broker, "Existing contracts suffice", **i)
    s.add(
        "form-consortium",
        d(16),
        broker,
        "All preconditions met; agreement signed",
        [f"{iid}-consortium-agreement.pdf"],
        **i,
    )
    if fate == "formed":
        return
    s.add(
        "withdraw-board",
        d(20),
        broker,
        "The consortium carries on without the Board",
        handover_note="Broker keeps watching; contact the lead for escalations",
        **i,
    )
    for offset in (1, 2, 3):
        if year + offset + 1 > 2024:
            break
        s.add(
            "report-impact",
            f"{year + offset + 1}-03-15",
            broker,
            "Yearly figures from the consortium",
            [f"{iid}-annual-{year + offset}.pdf"],
            period=year + offset,
            jobs_fte=rng.randint(3, 30) * offset,
            companies_started=1 if offset == 1 else 0,
            tonnes_processed_per_year=volume * offset / 3,
            **i,
        )
    if fate == "scaled":
        s.add(
            "assess-scale-up",
            "2020-06-01",
            "scheduler:phase-3-check",
            "phase-3 check: ready to scale up",
            ready=True,
            criteria="operating >= 18 months; >= 5000 t/yr; >= 5 FTE; no open risks",
            figures={"tonnes_per_year": volume},
            **i,
        )
        s.add(
            "start-scale-up",
            "2020-09-01",
            broker,
            "Province joins to scale regionally",
            level="regional",
            **i,
        )
        s.add("complete-scale-up", "2022-06-01", broker, "Regional roll-out complete", **i)


def procurement(s: Scenario, rng: random.Random) -> None:
    organisations = [(m, "municipality") for m in MUNICIPALITIES[:31]] + [
        (p, "province") for p in PROVINCES
    ]
    path = [{"year": 2022, "share": 10}, {"year": 2025, "share": 50}, {"year": 2030, "share": 100}]
    for org, kind in organisations:
        cid = org.lower().replace(" ", "-").replace("provincie-", "province-")
        s.add(
            "commit",
            "2019-10-01",
            org,
            "Commitment to circular procurement signed with the MRA",
            ["mra-commitment.pdf"],
            commitment_id=cid,
            programme_id=P,
            organisation=org,
            organisation_kind=kind,
            path=path,
        )
        categories = rng.sample(CATEGORIES, rng.randint(1, 3))
        for category in categories:
            s.add(
                "adopt-category",
                "2019-11-01",
                org,
                "Category adopted from the roadmap",
                commitment_id=cid,
                category=category,
            )
        ambition = rng.uniform(0.6, 1.4)
        for year in range(2020, 2025):
            if rng.random() < 0.08:
                continue  # lumpy: not every year reported
            target = 10 if year >= 2022 else 5
            target = 50 * (year - 2022) / 3 + 10 if year > 2022 else target
            for category in categories:
                total = rng.randint(2, 40) * 100_000
                share = min(100.0, target * ambition * rng.uniform(0.7, 1.3))
                s.add(
                    "report-spend",
                    f"{year + 1}-02-15",
                    org,
                    "Yearly spend report",
                    [f"{cid}-spend-{year}.xlsx"],
                    commitment_id=cid,
                    year=year,
                    category=category,
                    total_spend_eur=total,
                    circular_spend_eur=round(total * share / 100),
                    investment_eur=0,
                )
    communities = [
        (
            "cop-construction",
            "Community of practice: construction and infrastructure",
            [
                ("grondstromen-viaducts", "construction", 42_000_000),
                ("circular-asphalt", "asphalt", 25_000_000),
                ("traffic-signs-reuse", "traffic-signs", 3_000_000),
                ("concrete-paving-pool", "concrete-paving", 10_000_000),
            ],
        ),
        (
            "cop-facilities",
            "Community of practice: office furnishing, catering and ICT",
            [
                ("office-furniture-framework", "office-furnishing", 30_000_000),
                ("circular-catering", "catering", 15_000_000),
                ("ict-hardware-reuse", "ict", 25_000_000),
            ],
        ),
        ("cop-procurement-leads", "Community of practice: procurement leads", []),
    ]
    attendance = [10, 12, 11, 9, 13, 11]  # eleven on average, as in the source
    for n, (community, name, trajectories) in enumerate(communities):
        s.add(
            "found-community",
            f"{2017 + n}-03-01",
            BOARD,
            "A community of practice starts",
            community_id=community,
            programme_id=P,
            name=name,
            moderator="Amsterdam Economic Board",
        )
        members = rng.sample([o for o, _ in organisations], 14)
        for org in members:
            s.add(
                "join-community",
                f"{2017 + n}-03-01",
                BOARD,
                f"{org} joins",
                community_id=community,
                organisation=org,
            )
        for meeting, count in enumerate(attendance, start=1):
            s.add(
                "hold-meeting",
                f"{2017 + n + (meeting - 1) // 3}-{3 + 3 * ((meeting - 1) % 3):02d}-10",
                BOARD,
                f"Meeting {meeting}",
                community_id=community,
                meeting=meeting,
                attendees=rng.sample(members, count),
            )
        for trajectory, category, invested in trajectories:
            s.add(
                "start-joint-trajectory",
                f"{2019 + n}-06-01",
                BOARD,
                "Joint procurement agreed in the community",
                [f"{trajectory}-tender.pdf"],
                community_id=community,
                trajectory=trajectory,
                category=category,
                participants=rng.sample(members, 4),
                invested_eur=invested,
            )


def main() -> None:
    rng = random.Random(2015)  # noqa: S311 (a fixed seed: the same scenario every time)
    s = Scenario()
    programme(s)
    for spec in INITIATIVES:
        initiative(s, rng, spec)
    procurement(s, rng)
    s.lines.sort(key=lambda line: line["effective"])  # the record in the order it happened
    for number, line in enumerate(s.lines, start=1):
        line["command_id"] = f"regional-{number:04d}"
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
