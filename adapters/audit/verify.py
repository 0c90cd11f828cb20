"""`audit verify`: walk every stored event, recompute its hash and its link in the chain,
and name each broken place; sealed chain heads catch the newest events being cut off, and
rewrites of sealed history even with every link recomputed. The verdict says how much of
the record it covers: what was sealed, and the tail recorded since the latest seal (chained,
but a forger with write access could have written it: only a seal fixes it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from adapters.audit.chain import GENESIS, ChainRow, content_hash, link
from adapters.audit.keys import (
    KeyUnavailable,
    key_path,
    parse_public,
    public_key_text,
    public_text,
    sign,
    signing_key,
    verify,
)
from adapters.logs import get_logger
from adapters.settings import Settings
from domain.archive import Archive, Destroyed

log = get_logger("kringloop.audit")

Kind = Literal[
    "altered",
    "missing",
    "reordered",
    "inserted",
    "cut off",
    "unsealed",
    "rolled back",
    "unanchored",
]
Verdict = Literal[
    "intact", "intact-with-unsealed-tail", "unsealed", "altered", "rolled-back", "unanchored"
]
OUTSIDE = ("rolled back", "unanchored")  # what the anchors outside the data folder say
DESTROYED_TOPIC = f"{Destroyed.__module__}:{Destroyed.__qualname__}"


@dataclass(frozen=True)
class Problem:
    aggregate: str
    version: int
    kind: Kind
    detail: str
    name: str = ""  # the people's id: "initiative diaper-recycling"


@dataclass(frozen=True)
class Unsealed:
    """Events of one aggregate recorded since the latest seal: chained, not yet sealed."""

    aggregate: str
    name: str
    from_version: int
    to_version: int
    new: bool  # the whole aggregate is newer than the seal

    @property
    def events(self) -> int:
        return self.to_version - self.from_version + 1


@dataclass(frozen=True)
class DestroyedEvent:
    """An event destroyed under an approved destruction list: its tombstone names the
    content hash the chain recorded, and the list names the event and that hash."""

    aggregate: str
    version: int
    list_number: int
    destroyed_on: str


@dataclass
class Report:
    events: int = 0
    aggregates: int = 0
    sealed_heads: int = 0
    problems: list[Problem] = field(default_factory=list)
    sealed_at: str | None = None  # the latest valid seal's time; None: nothing sealed
    sealed_events: int = 0  # events the latest seal covers
    sealed_aggregates: int = 0
    seal_note: str = ""  # why there is no seal to check against
    unsealed: list[Unsealed] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # aggregate id -> people's id
    position: int = 0  # the newest notification id when the walk began
    anchoring: Any = None  # adapters.audit.anchoring.Anchoring: what holds the seals outside
    destroyed: list[DestroyedEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing was found altered, missing, reordered, inserted or cut off."""
        return not self.problems

    @property
    def sealable(self) -> bool:
        """The chain itself holds (a rollback shown by the anchors does not stop sealing
        what is there: the anchors keep showing the rollback)."""
        return all(p.kind in OUTSIDE for p in self.problems)

    @property
    def unsealed_events(self) -> int:
        return sum(u.events for u in self.unsealed)

    @property
    def verdict(self) -> Verdict:
        if self.problems and all(p.kind in OUTSIDE for p in self.problems):
            kinds = {p.kind for p in self.problems}
            return "rolled-back" if "rolled back" in kinds else "unanchored"
        if self.problems:
            return "altered"
        if self.sealed_at is None:
            return "unsealed"
        return "intact-with-unsealed-tail" if self.unsealed else "intact"

    def summary(self) -> str:
        """The verdict and what it covers, in words; then what was destroyed under approved
        lists; then what anchors the seals."""
        anchored = self.anchoring.summary() if self.anchoring is not None else ""
        said = "; ".join([self._covered(), *self.destructions()])
        return f"{said}. {anchored}" if anchored else said

    def destructions(self) -> list[str]:
        """ "N events destroyed on DATE under list N", one line per list and day."""
        counts: dict[tuple[str, int], int] = {}
        for d in self.destroyed:
            counts[(d.destroyed_on, d.list_number)] = (
                counts.get((d.destroyed_on, d.list_number), 0) + 1
            )
        return [
            f"{n} {'event' if n == 1 else 'events'} destroyed on {day} under list {number}"
            for (day, number), n in sorted(counts.items(), key=lambda item: item[0][1])
        ]

    def _covered(self) -> str:
        if self.verdict == "rolled-back":
            return (
                "rolled-back: the seals no longer reach what was anchored outside the data "
                f"folder ({_problems(len(self.problems))})"
            )
        if self.verdict == "unanchored":
            return (
                "unanchored: the chain holds, but the record could not be held to its anchors "
                "outside the data folder (the witness could not be asked)"
            )
        if self.verdict == "altered":
            return f"altered: {_problems(len(self.problems))} found"
        if self.verdict == "unsealed":
            return (
                f"unsealed: {self.events} events in {self.aggregates} aggregates are chained, "
                f"but there is no seal to check them against ({self.seal_note or 'never sealed'}"
                "): a forger with write access could have rewritten them with valid links"
            )
        covered = (
            f"{self.sealed_events} events in {self.sealed_aggregates} aggregates sealed as of "
            f"{self.sealed_at}"
        )
        if not self.unsealed:
            return f"intact: {covered}; nothing recorded since"
        return (
            f"intact-with-unsealed-tail: {covered}; {self.unsealed_events} events in "
            f"{len(self.unsealed)} aggregates recorded since the last seal are chained but not "
            "yet sealed"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "summary": self.summary(),
            "events_checked": self.events,
            "aggregates_checked": self.aggregates,
            "sealed_heads_checked": self.sealed_heads,
            "sealed_at": self.sealed_at,
            "sealed_events": self.sealed_events,
            "sealed_aggregates": self.sealed_aggregates,
            "unsealed_events": self.unsealed_events,
            "unsealed_aggregates": len(self.unsealed),
            "unsealed": [{**vars(u), "events": u.events} for u in self.unsealed],
            "problems": [vars(p) for p in self.problems],
            "destroyed": [vars(d) for d in self.destroyed],
            "destructions": self.destructions(),
            **(self.anchoring.as_dict() if self.anchoring is not None else {}),
        }


def _problems(count: int) -> str:
    return "1 problem" if count == 1 else f"{count} problems"


Heads = dict[str, tuple[int, str]]  # aggregate id -> (version, chain hash)


PAGE = 20_000


def verify_store(
    recorder: Any,
    home: Path,
    on_progress: Callable[[int], None] = lambda n: None,
    mapper: Any = None,
    settings: Settings | None = None,
    anchors: bool = True,
) -> tuple[Report, Heads]:
    """Check every stored event against the chain, one aggregate at a time, and the chain
    heads against the latest seal; list what was recorded since that seal; hold the seals
    to every anchor outside the data folder (time stamps, the witness: ``settings``, by
    default from the environment; not when ``anchors`` is false). With the engine's
    ``mapper``, aggregates are named by their people's id (read from their first event when
    the seal does not name them already)."""
    report = Report(position=recorder.max_notification_id() or 0)
    latest = _latest_valid_seal(home, report)
    sealed = _heads_of(latest)
    report.names = dict(latest.get("names", {})) if latest else {}
    if latest is not None:
        report.sealed_at = str(latest["recorded_at"])
        report.sealed_aggregates = len(sealed)
        report.sealed_events = sum(version for version, _ in sealed.values())
    heads: Heads = {}
    approved = approved_entries(recorder, mapper)
    events = _grouped(_paged(recorder.stored_page), on_progress)
    links = _grouped(_paged(recorder.chain_page))
    for aggregate, stored_rows, chain_rows in _merge(events, links):
        report.aggregates += 1
        report.events += len(stored_rows)
        if aggregate not in report.names and (name := name_of(mapper, stored_rows)):
            report.names[aggregate] = name
        stored = {s.version: content_hash(s.originator_id, s.topic, s.state) for s in stored_rows}
        chain = {row.version: row for row in chain_rows}
        found: list[Problem] = []
        if chain and not stored:  # every event of it deleted, its links left: one line
            last = max(chain)
            found.append(
                Problem(
                    aggregate,
                    1,
                    "missing",
                    f"all {last} events are gone (the chain recorded versions 1 to {last})",
                )
            )
            head: tuple[int, str] | None = (last, chain[last].chain_hash)
        else:
            for version in _destroyed(aggregate, stored_rows, chain, approved, mapper, report):
                stored[version] = chain[version].content_hash  # as approved: not altered
            head = _check_aggregate(aggregate, stored, chain, found)
        if head is not None:
            heads[aggregate] = head
        was_sealed = sealed.pop(aggregate, None)
        report.sealed_heads += was_sealed is not None
        _check_against_seal(aggregate, head, chain, was_sealed, found, home)
        if latest is not None and head is not None and not found:
            since = was_sealed[0] if was_sealed else 0
            if head[0] > since:
                report.unsealed.append(
                    Unsealed(aggregate, "", since + 1, head[0], new=was_sealed is None)
                )
        report.problems.extend(found)
    for aggregate, (version, _) in sealed.items():  # sealed once, now gone entirely
        report.problems.append(
            Problem(
                aggregate,
                1,
                "cut off",
                f"sealed at version {version}, no events remain (deleted entirely)",
            )
        )
    if anchors:
        from adapters.audit.anchoring import check_anchors

        report.anchoring = check_anchors(settings or Settings(home=home), report)
    _name_everything(report)
    return report, heads


# -- the people's ids ----------------------------------------------------------------------

# the attribute of an aggregate's first event that holds its people's id, and what it is
NAMED_BY = (
    ("initiative_id", "initiative"),
    ("commitment_id", "commitment"),
    ("community_id", "community"),
    ("authority_id", "authority"),
    ("archive_id", "archive"),  # retention and destruction (domain.archive)
    ("programme_id", "programme"),  # last: the others name their programme too
)


def name_of(mapper: Any, rows: list[Any]) -> str | None:
    """An aggregate's people's id ("initiative diaper-recycling"), read from its first
    event as stored; None without a mapper, without a first event, or if it does not read."""
    if mapper is None or not rows or rows[0].version != 1:
        return None
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    first = rows[0]
    try:
        event = mapper.to_domain_event(
            StoredEvent(
                originator_id=UUID(first.originator_id),
                originator_version=first.version,
                topic=first.topic,
                state=first.state,
            )
        )
    except Exception:  # a garbled event has no name; verify says what is wrong
        return None
    return event_name(event)


def event_name(event: Any) -> str | None:
    for attribute, kind in NAMED_BY:
        value = getattr(event, attribute, None)
        if isinstance(value, str) and value:
            if kind in ("authority", "archive"):
                return "authority register" if kind == "authority" else "retention archive"
            return f"{kind} {value}"
    return None


def _name_everything(report: Report) -> None:
    def named(aggregate: str) -> str:
        return report.names.get(aggregate, "")

    report.problems = [
        Problem(p.aggregate, p.version, p.kind, p.detail, named(p.aggregate) or p.name)
        for p in report.problems
    ]
    report.unsealed = [
        Unsealed(u.aggregate, named(u.aggregate), u.from_version, u.to_version, u.new)
        for u in report.unsealed
    ]


def label(aggregate: str, name: str) -> str:
    return f"{name} ({aggregate})" if name else aggregate


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
        if a is not None and (b is None or a[0] < b[0]):
            yield a[0], a[1], []
            a = next(left, None)
        elif b is not None and (a is None or b[0] < a[0]):
            yield b[0], [], b[1]
            b = next(right, None)
        elif a is not None and b is not None:  # the same aggregate on both sides
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


def seal(
    home: Path,
    heads: Heads,
    names: dict[str, str] | None = None,
    position: int | None = None,
) -> Path | None:
    """Record a signed digest of every chain head, so cutting off the newest events shows;
    only when a head moved since the latest seal (None then: verifying and exporting again
    and again add no files). ``names`` keeps each aggregate's people's id (so a deleted
    aggregate is still named), ``position`` the newest notification id the heads cover (the
    next seal reads only what came after). None, with a log line, without the signing key."""
    try:
        key = signing_key(home)
    except KeyUnavailable as error:
        log.warning("sealing skipped: this process cannot read the signing key", reason=str(error))
        return None
    latest = latest_seal(home)
    if (
        latest is not None
        and latest.get("public_key") == public_text(key)
        and latest.get("heads") == {k: list(v) for k, v in sorted(heads.items())}
    ):
        return None
    known = dict(latest.get("names", {})) if latest else {}
    known.update(names or {})
    body: dict[str, Any] = {
        "recorded_at": datetime.now(tz=UTC).isoformat(),
        "public_key": public_text(key),
        "heads": {k: list(v) for k, v in sorted(heads.items())},
        "names": {k: v for k, v in sorted(known.items()) if k in heads},
    }
    if position is not None:
        body["position"] = position
    payload = _payload(body)
    folder = seals_folder(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{body['recorded_at'].replace(':', '-')}.json"
    path.write_text(json.dumps({**body, "signature": sign(key, payload)}))
    return path


def _payload(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal_files(home: Path) -> list[Path]:
    folder = seals_folder(home)
    return sorted(folder.glob("*.json")) if folder.exists() else []


def latest_seal(home: Path) -> dict[str, Any] | None:
    seals = seal_files(home)
    return json.loads(seals[-1].read_text()) if seals else None


def signed_by(sealed: dict[str, Any], public_key: str) -> bool:
    body = {k: v for k, v in sealed.items() if k != "signature"}
    return sealed.get("public_key") == public_key and verify(
        parse_public(public_key), _payload(body), str(sealed.get("signature", ""))
    )


def _latest_valid_seal(home: Path, report: Report | None = None) -> dict[str, Any] | None:
    """The latest seal, if its signature holds under this installation's public key; a
    seal that fails it is a problem (someone wrote or changed it without the key)."""
    sealed = latest_seal(home)
    if sealed is None:
        if report is not None:
            report.seal_note = "never sealed"
        return None
    own_key = public_key_text(home)
    if own_key is None:
        if report is not None:
            report.seal_note = (
                f"no public key to check the seals with: neither {key_path(home)} nor its "
                ".pub beside it can be read"
            )
        return None
    if not signed_by(sealed, own_key):
        if report is not None:
            report.problems.append(
                Problem("*", 0, "unsealed", "the latest sealed heads fail their signature")
            )
        return None
    return sealed


def _heads_of(sealed: dict[str, Any] | None) -> dict[str, tuple[int, str]]:
    if sealed is None:
        return {}
    return {k: (int(v[0]), str(v[1])) for k, v in sealed["heads"].items()}


def _check_against_seal(
    aggregate: str,
    head: tuple[int, str] | None,
    chain: dict[int, ChainRow],
    sealed: tuple[int, str] | None,
    found: list[Problem],
    home: Path,
) -> None:
    if sealed is None:
        return
    version, chain_hash = sealed
    have = head[0] if head else 0
    if have < version:
        found.append(
            Problem(
                aggregate,
                have + 1,
                "cut off",
                f"sealed at version {version}, now ends at version {have}",
            )
        )
    elif chain.get(version) is None or chain[version].chain_hash != chain_hash:
        if not found:  # the links hold: someone rewrote sealed history, links and all
            found.append(_first_difference(aggregate, chain, home, version))
        else:
            found.append(
                Problem(
                    aggregate,
                    version,
                    "altered",
                    "the chain no longer passes through its sealed head",
                )
            )


def _first_difference(
    aggregate: str, chain: dict[int, ChainRow], home: Path, sealed_version: int
) -> Problem:
    """Where a chain with every link recomputed first differs from what was sealed: each
    earlier seal pins the head the aggregate had then; the first event that differs lies
    after the newest sealed head the chain still passes through."""
    own_key = public_key_text(home)
    holds, fails = [0], [sealed_version]
    for path in seal_files(home):
        sealed = json.loads(path.read_text())
        if own_key is None or not signed_by(sealed, own_key):
            continue
        at = sealed["heads"].get(aggregate)
        if at is None:
            continue
        version, chain_hash = int(at[0]), str(at[1])
        row = chain.get(version)
        (holds if row is not None and row.chain_hash == chain_hash else fails).append(version)
    still = max(holds)
    broken = min([v for v in fails if v > still], default=sealed_version)
    first = still + 1
    where = (
        f"version {first} is the first event that differs from what was sealed"
        if broken == first
        else f"the first event that differs from what was sealed is one of versions {first} "
        f"to {broken}"
    )
    return Problem(
        aggregate,
        first,
        "altered",
        f"the chain no longer passes through its sealed head (version {sealed_version}); "
        f"{where} (its links were recomputed)",
    )


# -- destroyed under an approved list (domain.archive, adapters.retention) ----------------


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"_type_", "_data_"}:
        return value["_data_"]
    return value


def decode_state(state: bytes, mapper: Any = None) -> dict[str, Any]:
    """A stored event's state as plain JSON values (dates as ISO text)."""
    if mapper is not None:
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
    found: dict[str, Any] = json.loads(state, object_hook=_plain)
    return found


def approved_entries(recorder: Any, mapper: Any = None) -> dict[tuple[str, int], dict[str, Any]]:
    """Every event an approved destruction list names: (aggregate, version) -> the entry,
    with the list's number and approval day."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for stored in recorder.select_events(Archive.create_id()):
        if not stored.topic.endswith(".DestructionApproved"):
            continue
        state = decode_state(bytes(stored.state), mapper)
        approved_on = str(state["decision"]["effective"])
        for entry in state["entries"]:
            found[(str(entry["aggregate"]), int(entry["version"]))] = {
                **entry,
                "list": int(state["number"]),
                "approved_on": approved_on,
            }
    return found


def _destroyed(
    aggregate: str,
    rows: list[Any],
    chain: dict[int, ChainRow],
    approved: dict[tuple[str, int], dict[str, Any]],
    mapper: Any,
    report: Report,
) -> list[int]:
    """The versions of an aggregate that hold a tombstone an approved list accounts for:
    the tombstone names the chain's content hash, and an approved list names this event
    with that hash under the tombstone's list number. Any other tombstone stays altered."""
    accepted = []
    for row in rows:
        link_row = chain.get(row.version)
        if row.topic != DESTROYED_TOPIC or link_row is None:
            continue
        try:
            tomb = decode_state(row.state, mapper)
        except ValueError:
            continue
        entry = approved.get((aggregate, row.version))
        if (
            entry is None
            or tomb.get("content_hash") != link_row.content_hash
            or entry.get("content_hash") != link_row.content_hash
            or tomb.get("list_number") != entry["list"]
        ):
            continue
        accepted.append(row.version)
        report.destroyed.append(
            DestroyedEvent(aggregate, row.version, entry["list"], str(tomb.get("destroyed_on")))
        )
    return accepted
