"""`audit verify`: walk every stored event, recompute its hash and its link in the chain,
and name each broken place; sealed chain heads catch the newest events being cut off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from adapters.audit.chain import GENESIS, ChainRow, content_hash, link
from adapters.audit.keys import parse_public, public_text, sign, signing_key, verify

Kind = Literal["altered", "missing", "reordered", "inserted", "cut off", "unsealed"]


@dataclass(frozen=True)
class Problem:
    aggregate: str
    version: int
    kind: Kind
    detail: str


@dataclass
class Report:
    events: int = 0
    aggregates: int = 0
    sealed_heads: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events,
            "aggregates_checked": self.aggregates,
            "sealed_heads_checked": self.sealed_heads,
            "problems": [vars(p) for p in self.problems],
        }


Heads = dict[str, tuple[int, str]]  # aggregate id -> (version, chain hash)


PAGE = 20_000


def verify_store(
    recorder: Any, home: Path, on_progress: Callable[[int], None] = lambda n: None
) -> tuple[Report, Heads]:
    """Check every stored event against the chain, one aggregate at a time, and the chain
    heads against the latest seal."""
    report = Report()
    sealed = _sealed_heads(home, report)
    heads: Heads = {}
    events = _grouped(_paged(recorder.stored_page), on_progress)
    links = _grouped(_paged(recorder.chain_page))
    for aggregate, stored_rows, chain_rows in _merge(events, links):
        report.aggregates += 1
        report.events += len(stored_rows)
        stored = {
            s.version: content_hash(s.originator_id, s.version, s.topic, s.state)
            for s in stored_rows
        }
        chain = {row.version: row for row in chain_rows}
        head = _check_aggregate(aggregate, stored, chain, report.problems)
        if head is not None:
            heads[aggregate] = head
        _check_against_seal(aggregate, head, chain, sealed.pop(aggregate, None), report)
    for aggregate, (version, _) in sealed.items():  # sealed once, now gone entirely
        report.problems.append(
            Problem(aggregate, 1, "cut off", f"sealed at version {version}, no events remain")
        )
    return report, heads


def _paged(fetch: Callable[[tuple[str, int], int], list[Any]]) -> Iterator[Any]:
    after: tuple[str, int] = ("", 0)
    while page := fetch(after, PAGE):
        yield from page
        last = page[-1]
        after = (last.originator_id, last.version)


def _grouped(
    rows: Iterator[Any], on_progress: Callable[[int], None] = lambda n: None
) -> Iterator[tuple[str, list[Any]]]:
    for aggregate, group in groupby(rows, key=lambda r: r.originator_id):
        found = list(group)
        on_progress(len(found))
        yield aggregate, found


def _merge(
    left: Iterator[tuple[str, list[Any]]], right: Iterator[tuple[str, list[Any]]]
) -> Iterator[tuple[str, list[Any], list[Any]]]:
    """Join two streams grouped by aggregate id, both in id order."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a[1], []
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield b[0], [], b[1]
            b = next(right, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(left, None), next(right, None)


def _check_aggregate(
    aggregate: str, stored: dict[int, str], chain: dict[int, ChainRow], problems: list[Problem]
) -> tuple[int, str] | None:
    """Compare one aggregate's events with its chain; return its head."""
    where_content = {row.content_hash: v for v, row in chain.items()}
    previous = GENESIS
    last = max([*stored, *chain], default=0)
    for version in range(1, last + 1):
        content, row = stored.get(version), chain.get(version)
        if row is None:
            kind: Kind = "missing" if content is None else "inserted"
            problems.append(
                Problem(
                    aggregate,
                    version,
                    kind,
                    (
                        "no event and no chain link at this version"
                        if content is None
                        else "an event the chain never recorded"
                    ),
                )
            )
            continue
        if content is None:
            problems.append(
                Problem(
                    aggregate,
                    version,
                    "missing",
                    "the chain recorded an event that is no longer stored",
                )
            )
        elif content != row.content_hash:
            moved_from = where_content.get(content)
            problems.append(
                Problem(
                    aggregate,
                    version,
                    "reordered",
                    f"holds the event recorded as version {moved_from}",
                )
                if moved_from is not None
                else Problem(
                    aggregate, version, "altered", "the stored event differs from what was recorded"
                )
            )
        if row.chain_hash != link(previous, row.content_hash):
            problems.append(
                Problem(aggregate, version, "altered", "the chain link itself was changed")
            )
        previous = row.chain_hash
    return (last, previous) if last else None


# -- sealed heads ------------------------------------------------------------------------


def seals_folder(home: Path) -> Path:
    return home / "audit" / "heads"


def seal(home: Path, heads: Heads) -> Path | None:
    """Record a signed digest of every chain head, so cutting off the newest events shows;
    only when a head moved since the latest seal (None then: verifying and exporting again
    and again add no files)."""
    key = signing_key(home)
    latest = latest_seal(home)
    if (
        latest is not None
        and latest.get("public_key") == public_text(key)
        and latest.get("heads") == {k: list(v) for k, v in sorted(heads.items())}
    ):
        return None
    body = {
        "recorded_at": datetime.now(tz=UTC).isoformat(),
        "public_key": public_text(key),
        "heads": {k: list(v) for k, v in sorted(heads.items())},
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    folder = seals_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{body['recorded_at'].replace(':', '-')}.json"
    path.write_text(json.dumps({**body, "signature": sign(key, payload)}))
    return path


def latest_seal(home: Path) -> dict[str, Any] | None:
    folder = seals_folder(home)
    seals = sorted(folder.glob("*.json")) if folder.exists() else []
    return json.loads(seals[-1].read_text()) if seals else None


def _sealed_heads(home: Path, report: Report) -> dict[str, tuple[int, str]]:
    sealed = latest_seal(home)
    if sealed is None:
        return {}
    body = {k: sealed[k] for k in ("recorded_at", "public_key", "heads")}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    own_key = public_text(signing_key(home))
    if sealed["public_key"] != own_key or not verify(
        parse_public(own_key), payload, sealed["signature"]
    ):
        report.problems.append(
            Problem("*", 0, "unsealed", "the latest sealed heads fail their signature")
        )
        return {}
    return {k: (int(v[0]), str(v[1])) for k, v in sealed["heads"].items()}


def _check_against_seal(
    aggregate: str,
    head: tuple[int, str] | None,
    chain: dict[int, ChainRow],
    sealed: tuple[int, str] | None,
    report: Report,
) -> None:
    if sealed is None:
        return
    report.sealed_heads += 1
    version, chain_hash = sealed
    have = head[0] if head else 0
    if have < version:
        report.problems.append(
            Problem(
                aggregate,
                have + 1,
                "cut off",
                f"sealed at version {version}, now ends at version {have}",
            )
        )
    elif chain.get(version) is None or chain[version].chain_hash != chain_hash:
        report.problems.append(
            Problem(
                aggregate, version, "altered", "the chain no longer passes through its sealed head"
            )
        )
