"""Writes regional.jsonl, the Amsterdam-region demo, from the data in regional.yaml (run
`python -m adapters.scenarios.regional > adapters/scenarios/regional.jsonl`).

The YAML holds the story: the source's figures, every initiative's milestones, the
communities and the commitments. This module spreads the steps between milestones over
working days, draws the yearly figures, and applies the phase-3 rule to the yearly checks,
all from a fixed seed: the same file every time.
"""

from __future__ import annotations

import json
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from domain.scale_up import Phase3Figures, assess

DATA = Path(__file__).with_name("regional.yaml")
SCHEDULER = "scheduler:phase-3-check"
DEADLINES = "scheduler:deadlines"  # the daily deadlines flow's identity (flows.runtime)
Step = tuple[date, str, str, str, list[str], dict[str, Any]]  # day, command, actor, reason, ...


def months(since: date, day: date) -> int:
    return (day.year - since.year) * 12 + day.month - since.month


class Record:
    """The scenario's commands, as `kringloop apply` reads them, and the seeded draws."""

    def __init__(self, data: dict[str, Any], seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (a fixed seed: the same scenario every time)
        self.steps: list[Step] = []
        self.text: dict[str, Any] = data["texts"]
        self.pid: str = data["programme"]["id"]
        self.checks: list[date] = data["programme"]["checks"]
        self.criteria = {**data["programme"]["scale_up_criteria"], "no_open_risks": True}

    def add(
        self, day: date, command: str, actor: str, reason: str, *evidence: str, **f: Any
    ) -> None:
        self.steps.append((day, command, actor, reason, list(evidence), f))

    def workdays(self, after: date, before: date, n: int) -> list[date]:
        """``n`` distinct working days strictly between two days, in order."""
        days = [after + timedelta(d) for d in range(1, (before - after).days)]
        days = [d for d in days if d.weekday() < 5]
        if len(days) < n:
            raise ValueError(f"no room for {n} working days between {after} and {before}")
        return sorted(self.rng.sample(days, n))

    def lines(self) -> list[dict[str, Any]]:
        ordered = sorted(self.steps, key=lambda s: s[0])  # stable: each record's order holds
        keys = ("effective", "command", "actor", "reason", "evidence")
        return [
            {"command_id": f"regional-{n:04d}", **dict(zip(keys, s[:5], strict=True)), **s[5]}
            for n, s in enumerate(ordered, start=1)
        ]


def programme(rec: Record, p: dict[str, Any]) -> None:
    t, pid, actor, day = rec.text, rec.pid, p["actor"], p["created"]
    add = rec.add
    add(day, "init-authority", "operator:setup", t["init"], manager=actor)
    add(
        day,
        "create-programme",
        actor,
        t["create"],
        "board-minutes-2015-01.pdf",
        programme_id=pid,
        name=p["name"],
        region=p["region"],
        members=[],
        demonstration=True,
    )
    members = [(p["board"], "board")]
    members += [(f"Gemeente {m}", "municipality") for m in p["municipalities"]]
    members += [(f"Provincie {m}", "province") for m in p["provinces"]]
    for org, kind in members:
        add(
            day,
            "add-member",
            actor,
            t["member"],
            programme_id=pid,
            organisation=org,
            organisation_kind=kind,
        )
    for day, phase, status, reason, *by in p["phases"]:
        extra = {"approved_by": by[0]} if by else {}
        add(
            day,
            "record-phase-change",
            actor,
            reason,
            programme_id=pid,
            phase=phase,
            phase_status=status,
            **extra,
        )
    outline = p["phases"][2][0]
    for key, description, unit, target, measure in p["targets"]:
        extra = {"measure": measure} if measure else {}
        add(
            outline,
            "set-target",
            actor,
            t["target"],
            "programme-circular-economy-2015.pdf",
            programme_id=pid,
            key=key,
            description=description,
            unit=unit,
            baseline=0,
            target=target,
            deadline="2025-12-31",
            source=p["target_source"],
            **extra,
        )
    for day, key, value, source in p["measurements"]:
        add(
            day,
            "record-target-measurement",
            actor,
            t["measurement"],
            programme_id=pid,
            key=key,
            value=value,
            source=source,
        )
    for stream, (name, subs) in p["streams"].items():
        add(
            outline,
            "register-stream",
            actor,
            t["stream"],
            programme_id=pid,
            stream=stream,
            name=name,
        )
        for sub, sub_name in subs.items():
            add(
                outline,
                "register-stream",
                actor,
                f"Sub-stream of {name.lower()}",
                programme_id=pid,
                stream=sub,
                name=sub_name,
                parent=stream,
            )
    for broker, streams in p["brokers"].items():
        add(
            date(2015, 11, 30),
            "grant-mandate",
            actor,
            t["mandate"],
            "mandate-2015-11.pdf",
            programme_id=pid,
            broker=broker,
            streams=streams,
        )
    criteria = dict(p["scale_up_criteria"])
    day = criteria.pop("day")
    add(
        day,
        "grant-mandate",
        actor,
        t["scheduler"],
        programme_id=pid,
        broker=SCHEDULER,
        streams=["all"],
    )
    add(
        day,
        "set-scale-up-criteria",
        actor,
        t["criteria"],
        "phase-3-note-2019.pdf",
        programme_id=pid,
        no_open_risks=True,
        **criteria,
    )


def initiative(rec: Record, i: dict[str, Any], experts: dict[str, str]) -> list[Step]:
    """Every decision on one initiative, in the order it was taken."""
    t, iid, broker, steps = rec.text, i["id"], i["broker"], []

    def add(day: date, command: str, reason: str, *evidence: str, **f: Any) -> None:
        actor = f.pop("actor", broker)
        steps.append((day, command, actor, reason, list(evidence), {"initiative_id": iid, **f}))

    add(
        i["proposed"],
        "propose-initiative",
        t["propose"],
        programme_id=rec.pid,
        stream=i["stream"],
        title=i["title"],
    )
    scan_end = i.get("scan", i["proposed"] + timedelta(150))
    start, *found = rec.workdays(i["proposed"], scan_end, 1 + len(i["options"]))
    add(start, "start-expert-scan", t["scan"])
    for day, (option, level, what, expert) in zip(found, i["options"], strict=True):
        add(
            day,
            "record-option",
            f"{t['option']} ({level})",
            option=option,
            description=what,
            circularity_level=level,
            expert=experts[expert],
        )
    if "scan" not in i:
        return steps
    add(
        i["scan"],
        "complete-expert-scan",
        t["chosen"],
        f"{iid}-expert-scan.pdf",
        chosen_options=i["chosen"],
    )
    add(i["consultation"], "open-consultation", t["consult"])
    undated = [r for r in i["respondents"] if len(r) < 3]
    end = i.get("closed", i["consultation"] + timedelta(120))
    days = iter(rec.workdays(i["consultation"], end, len(undated)))
    stated = sorted({p["kind"].replace("_", " ") for p in i.get("preconditions", [])})
    for company, stance, *when in i["respondents"]:
        add(
            when[0] if when else next(days),
            "record-response",
            t[stance],
            company=company,
            willing_to_invest=stance != "interested",
            willing_to_lead=stance == "lead",
            stated_preconditions=stated * (stance == "lead"),
        )
    if "closed" in i:
        lead = next(r[0] for r in reversed(i["respondents"]) if r[1] == "lead")
        add(
            i["closed"],
            "close-consultation",
            f"{lead} selected as lead entrepreneur",
            f"{iid}-consultation-report.pdf",
            lead=lead,
        )
        preconditions(rec, i, lead, add)
    for day, command, reason, fields in i.get("extra", []):
        add(day, command, reason, **fields)
    if "formed" in i:
        add(
            i["formed"],
            "form-consortium",
            i.get("formed_reason", t["formed"]),
            f"{iid}-consortium-agreement.pdf",
            operating_from=i["operating"].isoformat(),
        )
        add(i["withdrawn"], "withdraw-board", t["withdraw"], handover_note=t["handover"])
        phase3(rec, i, add)
    return sorted(steps, key=lambda s: s[0])


def preconditions(rec: Record, i: dict[str, Any], lead: str, add: Any) -> None:
    """The lead's preconditions and how each was resolved; the consortium's members and
    its financial arrangement (or the decision that none is needed)."""
    iid, conditions = i["id"], i["preconditions"]
    registered = rec.workdays(i["closed"], i["closed"] + timedelta(22), len(conditions))
    for day, c in zip(registered, conditions, strict=True):
        value = {"target_value": c["value"], "target_unit": c["unit"]} if "value" in c else {}
        add(
            day,
            "register-precondition",
            f"Stated by {lead} as a condition for leading",
            precondition=c["id"],
            kind=c["kind"],
            description=c["what"],
            responsible=c["by"],
            due=c["due"].isoformat(),
            **value,
        )
        for outcome, command in (
            ("met", "fulfil-precondition"),
            ("waived", "waive-precondition"),
            ("failed", "fail-precondition"),
        ):
            if outcome in c:
                reason = c.get("reason", rec.text["done"][c["kind"]])
                add(c[outcome], command, reason, f"{iid}-{c['id']}.pdf", precondition=c["id"])
    if "members" not in i:
        return
    members = [(lead, "lead"), *i["members"]]
    end: date = i.get("formed") or i["members_by"]
    days = rec.workdays(i.get("members_from", i["closed"]), end, len(members) + 1)
    for day, (org, role) in zip(days, members, strict=False):
        add(
            day,
            "admit-member",
            f"{org} joins as {role.replace('_', ' ')}",
            organisation=org,
            role=role,
        )
    if "arrangement" in i:
        kind, parts = i["arrangement"]
        shares = [{"party": p, "cost_share": c, "benefit_share": b} for p, c, b in parts]
        add(
            days[-1],
            "agree-arrangement",
            rec.text["shares"],
            f"{iid}-term-sheet.pdf",
            arrangement_type=kind,
            shares=shares,
        )
    else:
        add(days[-1], "declare-no-arrangement", i["no_arrangement"])


def phase3(rec: Record, i: dict[str, Any], add: Any) -> None:
    """Yearly impact reports, the yearly phase-3 checks, and the scale-up where there is one."""
    t, iid, scale, spec = rec.text, i["id"], i.get("scale_up", {}), i["impact"]
    first, last, reports, filed = spec["from"], spec["to"], {}, {}
    for year in range(first, last + 1):
        at = (year - first) / max(last - first, 1)
        wobble = 1 if year in (first, last) else rec.rng.uniform(0.95, 1.05)
        jobs, tonnes = ((a + (b - a) * at) * wobble for a, b in (spec["jobs"], spec["tonnes"]))
        tonnes = round(tonnes, -2 if tonnes > 5000 else -1)
        companies = spec.get("companies", {}).get(year, 0)
        reports[year] = {
            "jobs_fte": round(jobs),
            "companies_started": companies,
            "tonnes_processed_per_year": tonnes,
        }
        filed[year] = rec.workdays(date(year + 1, 2, 28), date(year + 1, 5, 20), 1)[0]
        add(
            filed[year],
            "report-impact",
            t["impact"],
            f"{iid}-annual-report-{year}.pdf",
            period=year,
            **reports[year],
        )
    started, completed = scale.get("started", date.max), scale.get("completed", date.max)
    ready = False
    for day in rec.checks:
        if day <= i["withdrawn"] or started <= day < completed:
            continue  # not yet withdrawn, or scaling up: the check passes it by
        known = [y for y in reports if filed[y] < day]
        latest, on = (reports[max(known)], filed[max(known)]) if known else ({}, None)
        result = assess(
            rec.criteria,
            Phase3Figures(
                iid,
                months(i["operating"], day),
                latest.get("tonnes_processed_per_year", 0.0),
                latest.get("jobs_fte", 0.0),
                (),
                last_report_on=on,
                months_since_report=months(on, day) if on else None,
            ),
        )
        add(
            day,
            "assess-scale-up",
            result.reason,
            actor=SCHEDULER,
            ready=result.ready,
            at_risk=result.at_risk,
            criteria=result.criteria,
            figures=result.figures,
        )
        ready = result.ready if day < started else ready
    if "started" in scale:
        if not ready:
            raise ValueError(f"{iid}: the scale-up starts without a ready assessment before it")
        add(started, "start-scale-up", t["scale"], f"{iid}-scale-up-plan.pdf", level="regional")
    if "completed" in scale:
        add(completed, "complete-scale-up", t["scaled"], f"{iid}-scale-up-evaluation.pdf")


def procurement(rec: Record, p: dict[str, Any], municipalities: list[str]) -> None:
    """The commitments with their yearly spend reports, and the communities of practice."""
    t, pid, actor, add = rec.text, rec.pid, p["actor"], rec.add
    organisations = [
        (f"Gemeente {m}", "municipality") for m in municipalities if m not in p["not_committed"]
    ] + [("Provincie Noord-Holland", "province"), ("Provincie Flevoland", "province")]
    first, last = p["committed"]
    signed = rec.workdays(first, last, len(organisations))
    rec.rng.shuffle(signed)
    for (org, kind), day in zip(organisations, signed, strict=True):
        cid = re.sub(r"[^a-z0-9]+", "-", org.removeprefix("Gemeente ").lower())
        add(
            day,
            "grant-role",
            actor,
            t["speaks_for"],
            identity=cid,
            role="organisation",
            organisation=org,
        )
        add(
            day,
            "commit",
            cid,
            t["commit"],
            f"{cid}-council-decision.pdf",
            commitment_id=cid,
            programme_id=pid,
            organisation=org,
            organisation_kind=kind,
            path=p["path"],
        )
        categories = rec.rng.sample(p["categories"], rec.rng.randint(1, 3))
        for category in categories:
            later = day + timedelta(rec.rng.randint(20, 60))
            add(later, "adopt-category", cid, t["adopt"], commitment_id=cid, category=category)
        ambition = rec.rng.uniform(0.5, 1.4)  # some keep up with their path, some fall behind
        size = 20 if org == "Gemeente Amsterdam" else 5 if kind == "province" else 1
        for year in range(p["spend_years"][0], p["spend_years"][1] + 1):
            path = 10 * (year - 2018) / 4 if year <= 2022 else 10 + 40 * (year - 2022) / 3
            for category in categories:
                if rec.rng.random() < 0.1:
                    continue  # lumpy: a category not bought in a year scores nothing
                total = rec.rng.randint(3, 40) * 50_000 * size
                share = min(100.0, path * ambition * rec.rng.uniform(0.7, 1.3))
                day = rec.workdays(date(year + 1, 1, 31), date(year + 1, 4, 30), 1)[0]
                add(
                    day,
                    "report-spend",
                    cid,
                    t["spend"],
                    f"{cid}-spend-{year}.xlsx",
                    commitment_id=cid,
                    year=year,
                    category=category,
                    total_spend_eur=total,
                    circular_spend_eur=round(total * share / 100),
                    investment_eur=0,
                )
    for c in p["communities"]:
        cid, members = c["id"], [org for org, _ in c["members"]]
        add(
            c["founded"],
            "found-community",
            actor,
            t["found"],
            community_id=cid,
            programme_id=pid,
            name=c["name"],
            moderator="Amsterdam Economic Board",
        )
        for org, kind in c["members"]:
            add(
                c["founded"],
                "join-community",
                actor,
                f"The head of procurement of {org} joins",
                community_id=cid,
                organisation=org,
                organisation_kind=kind,
            )
        for n, (day, count, topic) in enumerate(c["meetings"], start=1):
            add(
                day,
                "hold-meeting",
                actor,
                f"Meeting {n}, moderated by the Board",
                f"{cid}-meeting-{n}-notes.pdf",
                community_id=cid,
                meeting=n,
                attendees=sorted(rec.rng.sample(members, count)),
                topic=topic,
            )
        for day, trajectory, category, invested, who in c["trajectories"]:
            add(
                day,
                "start-trajectory",
                actor,
                t["trajectory"],
                f"{trajectory}-tender.pdf",
                community_id=cid,
                trajectory=trajectory,
                category=category,
                participants=who,
                invested_eur=invested,
            )


def deadlines_mandate(rec: Record, p: dict[str, Any]) -> None:
    """The daily deadlines check gets its mandate on every stream on the record's last day
    (last in the file: the lines before keep their command ids)."""
    last = max(step[0] for step in rec.steps)
    rec.add(
        last,
        "grant-mandate",
        p["actor"],
        rec.text["deadlines"],
        programme_id=rec.pid,
        broker=DEADLINES,
        streams=["all"],
    )


def main() -> None:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    p = data["programme"]
    rec = Record(data, seed=2015)
    programme(rec, p)
    for spec in data["initiatives"]:
        rec.steps.extend(initiative(rec, spec, data["experts"]))
    procurement(rec, data["procurement"], p["municipalities"])
    deadlines_mandate(rec, p)
    for line in rec.lines():
        sys.stdout.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
