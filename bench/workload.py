"""Valid command streams for the benchmarks, as JSON-ready dicts ``{"command": NAME, ...}``.

A programme with streams and broker mandates, then initiatives taken through the whole
lifecycle (proposal to scale-up), the way ``tests/scenario.py`` does it. All effective
dates lie in the past, so the engine's default clock (today) accepts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from figure import note

from domain.commands.catalogue import parse_command

if TYPE_CHECKING:
    from domain.engine import Engine

PROGRAMME = "bench-programme"
FOUNDED = date(2015, 1, 15)
BROKERS = {"broker-anna": "biomass", "broker-bas": "textiles"}
SUB_STREAMS = {"biomass": "roadside-grass", "textiles": "workwear"}
FIRST_DAY = date(2016, 1, 1)
STEP_DAYS = 3  # days between two steps of one initiative


def programme_commands() -> list[dict[str, Any]]:
    """Create the programme, its streams and sub-streams, and one mandate per broker."""
    registered = date(2015, 2, 1).isoformat()
    commands: list[dict[str, Any]] = [
        {
            "command": "init-authority",
            "manager": "board",
            "actor": "operator:bench",
            "reason": "the authority register starts with the board as manager",
            "effective": FOUNDED.isoformat(),
        },
        {
            "command": "create-programme",
            "programme_id": PROGRAMME,
            "name": "Benchmark programme",
            "region": "MRA",
            "members": ["Gemeente Amsterdam", "Provincie Noord-Holland"],
            "actor": "board",
            "reason": "Board starts the programme",
            "effective": FOUNDED.isoformat(),
        },
    ]
    for stream, sub in SUB_STREAMS.items():
        commands.append(
            {
                "command": "register-stream",
                "programme_id": PROGRAMME,
                "stream": stream,
                "name": stream.title(),
                "actor": "board",
                "reason": "Stream in the programme outline",
                "effective": registered,
            }
        )
        commands.append(
            {
                "command": "register-stream",
                "programme_id": PROGRAMME,
                "stream": sub,
                "name": sub.replace("-", " ").title(),
                "parent": stream,
                "actor": "board",
                "reason": "Sub-stream in the programme outline",
                "effective": registered,
            }
        )
    for broker, stream in BROKERS.items():
        commands.append(
            {
                "command": "grant-mandate",
                "programme_id": PROGRAMME,
                "broker": broker,
                "streams": [stream],
                "actor": "board",
                "reason": "Broker appointed for the stream",
                "effective": date(2015, 3, 1).isoformat(),
            }
        )
    return commands


def lifecycle(initiative: str, index: int) -> list[dict[str, Any]]:
    """The 20 steps that take one initiative from proposal to a completed scale-up."""
    broker, stream = list(BROKERS.items())[index % len(BROKERS)]
    lead, partner = f"Lead {index} BV", f"Partner {index} BV"
    steps: list[dict[str, Any]] = [
        {
            "command": "propose-initiative",
            "programme_id": PROGRAMME,
            "stream": SUB_STREAMS[stream],
            "title": f"Initiative {index}",
            "description": "High-value reuse of a residual stream",
        },
        {"command": "start-expert-scan"},
        {
            "command": "record-option",
            "option": "fibres",
            "description": "Fibres for insulation mats",
            "circularity_level": "R8",
            "expert": "TNO",
        },
        {"command": "complete-expert-scan", "chosen_options": ["fibres"]},
        {"command": "open-consultation"},
        {
            "command": "record-response",
            "company": lead,
            "willing_to_invest": True,
            "willing_to_lead": True,
            "stated_preconditions": ["guaranteed volume"],
        },
        {
            "command": "record-response",
            "company": partner,
            "willing_to_invest": True,
            "willing_to_lead": False,
        },
        {"command": "close-consultation", "lead": lead},
        {
            "command": "register-precondition",
            "precondition": "volume",
            "kind": "guaranteed_volume",
            "responsible": "Province",
            "target_value": 50000,
            "target_unit": "t/yr",
        },
        {
            "command": "register-precondition",
            "precondition": "offtake",
            "kind": "offtake_quality",
            "responsible": lead,
        },
        {"command": "fulfil-precondition", "precondition": "volume", "evidence": ["contract.pdf"]},
        {"command": "waive-precondition", "precondition": "offtake"},
        {"command": "admit-member", "organisation": lead, "role": "lead"},
        {"command": "admit-member", "organisation": partner, "role": "other"},
        {"command": "declare-no-arrangement"},
        {"command": "form-consortium"},
        {"command": "withdraw-board", "handover_note": "The consortium carries on"},
        {"command": "assess-scale-up", "ready": True, "criteria": "volume met"},
        {"command": "start-scale-up", "level": "regional"},
        {"command": "complete-scale-up"},
    ]
    for step in steps:
        step.setdefault("evidence", [])
        step.update(initiative_id=initiative, actor=broker, reason=f"Step: {step['command']}")
    return steps


STEPS_PER_INITIATIVE = len(lifecycle("x", 0))
CONSORTIUM_STEPS = [s["command"] for s in lifecycle("x", 0)].index("form-consortium") + 1


def interleaved(count: int, wave: int = 50) -> Iterator[dict[str, Any]]:
    """``count`` initiatives through their lifecycle, ``wave`` of them side by side.

    Within a wave the initiatives advance step by step together, as brokers working on
    several initiatives at once would record them; each step is a few days after the last.
    """
    for start in range(0, count, wave):
        members = range(start, min(start + wave, count))
        paths = {i: lifecycle(f"initiative-{i:06d}", i) for i in members}
        first = FIRST_DAY + timedelta(days=start // wave)
        for step in range(STEPS_PER_INITIATIVE):
            effective = (first + timedelta(days=step * STEP_DAYS)).isoformat()
            for i in members:
                yield {**paths[i][step], "effective": effective}


def numbered(commands: Iterator[dict[str, Any]], prefix: str) -> Iterator[dict[str, Any]]:
    """Give each command a stable, unique command id."""
    for n, command in enumerate(commands, start=1):
        yield {**command, "command_id": f"{prefix}-{n:07d}"}


def record_in_batches(
    engine: Engine, commands: Iterable[dict[str, Any]], batch_size: int, every: int, label: str
) -> int:
    """Record ``commands`` with execute_batch, ``batch_size`` at a time, noting progress every
    ``every`` events; each must be accepted and record one event. Returns the number of
    events."""
    stream = iter(commands)
    recorded = 0
    while batch := [parse_command(c) for c in islice(stream, batch_size)]:
        result = engine.execute_batch(batch)
        assert result.refusal is None, f"refused: {result.refusal}"
        assert len(result.outcomes) == len(batch)
        if (recorded + len(batch)) // every > recorded // every:
            note(f"{label}generated {recorded + len(batch):,} events")
        recorded += len(batch)
    assert engine.recorder.max_notification_id() == recorded, "one event per command"
    return recorded
