"""Anchoring the seals outside the data folder, so no operator can roll them back.

The seals (``audit/heads/*.json``), in the order they were made, are the leaves of a
Merkle tree (RFC 9162: each leaf the hash of a seal file exactly as written). Its
checkpoint (C2SP tlog-checkpoint: origin, number of seals, root) is signed with the audit
key as a C2SP signed note, then

- time-stamped by an RFC 3161 time-stamping authority (KRINGLOOP_TSA_URL): the authority
  signs that this checkpoint existed at that time; and/or
- co-signed by a witness (KRINGLOOP_WITNESS_URL, C2SP tlog-witness), which keeps the
  latest checkpoint it co-signed and refuses one that does not extend it (a consistency
  proof): a store rolled back to an older backup gets no cosignature again.

Each anchor (the signed checkpoint, its cosignatures, the time stamp) is written to
``audit/anchors/`` and, with KRINGLOOP_ANCHOR_COPY, to a folder outside the data folder
(another machine's share, owned by another user). `audit verify` checks every anchor it
finds there and the witness's latest checkpoint against the seals it has: an anchored
checkpoint whose seals are gone or differ names the rollback (verify.Kind "rolled back").
A time stamp kept only in the data folder rolls back with it: only the copy or the
witness catch a rollback of the whole folder, and verify says which it had."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.audit import merkle
from adapters.audit.keys import KeyUnavailable, public_key_text, signing_key
from adapters.audit.notes import (
    Checkpoint,
    add_signatures,
    parse_checkpoint,
    parse_vkey,
    sign_note,
    split_note,
    verify_cosignature,
    verify_note,
    vkey,
)
from adapters.audit.verify import Problem, Report, log, seal_files
from adapters.settings import Settings


class AnchorRefused(Exception):
    """The witness holds a longer record than this store: it was rolled back."""


# -- the tree over the seals -------------------------------------------------------------


def seal_leaves(home: Path) -> list[bytes]:
    """The leaf hash of every seal, oldest first (seal files are named by their time)."""
    return [merkle.leaf_hash(path.read_bytes()) for path in seal_files(home)]


def origin(settings: Settings) -> str:
    """The log's name, in checkpoints and at the witness: KRINGLOOP_LOG_ORIGIN (pin it in
    production, where auditors and the witness know it), else one made for this data
    folder on first use and kept in it (and in its backups)."""
    if settings.log_origin:
        return settings.log_origin
    path = settings.home / "audit" / "origin"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    made = f"kringloop.local/{uuid.uuid4().hex[:16]}"
    path.write_text(made + "\n")
    return made


def log_vkey(settings: Settings) -> str:
    """The signed-note verifier key of this log (its origin and the audit key's public
    half): what a witness is given to know the log by (`kringloop witness serve --log`)."""
    key = signing_key(settings.home)
    return vkey(origin(settings), key.public_key())


# -- anchors as kept -----------------------------------------------------------------------


@dataclass
class Anchor:
    """One anchored checkpoint: the signed note (the log's signature and any witness
    cosignatures) and the authority's time stamp over the checkpoint text."""

    note: str
    timestamp: bytes | None
    anchored_at: str
    source: str = ""  # where it was found: a file, or "the witness"

    @property
    def checkpoint(self) -> Checkpoint:
        text, _ = split_note(self.note)
        return parse_checkpoint(text)

    def as_json(self) -> str:
        return json.dumps(
            {
                "checkpoint": self.note,
                "timestamp": base64.b64encode(self.timestamp).decode() if self.timestamp else None,
                "anchored_at": self.anchored_at,
            },
            sort_keys=True,
        )

    @classmethod
    def read(cls, path: Path) -> Anchor:
        body = json.loads(path.read_text())
        stamp = body.get("timestamp")
        return cls(
            note=str(body["checkpoint"]),
            timestamp=base64.b64decode(stamp) if stamp else None,
            anchored_at=str(body.get("anchored_at", "")),
            source=str(path),
        )


def anchors_folder(home: Path) -> Path:
    return home / "audit" / "anchors"


def _folders(settings: Settings) -> list[Path]:
    folders = [anchors_folder(settings.home)]
    if settings.anchor_copy is not None:
        folders.append(settings.anchor_copy)
    return folders


def kept_anchors(settings: Settings) -> list[Anchor]:
    """Every anchor in the data folder and in the copy outside it (one of each)."""
    seen: set[str] = set()
    found: list[Anchor] = []
    for folder in _folders(settings):
        for anchor in _read(folder):
            if anchor.note not in seen:
                seen.add(anchor.note)
                found.append(anchor)
    return found


def _read(folder: Path) -> list[Anchor]:
    return [_read_one(path) for path in _anchor_files(folder)]


def _anchor_files(folder: Path) -> list[Path]:
    """Oldest first: their names sort by size, then time."""
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _read_one(path: Path) -> Anchor:
    try:
        return Anchor.read(path)
    except (ValueError, KeyError, OSError) as error:  # verify names it as no anchor
        return Anchor(f"unreadable: {error}", None, "", str(path))


def keep(settings: Settings, anchor: Anchor) -> Path:
    """Write the anchor to the data folder and to the copy outside it; its path in the
    data folder."""
    checkpoint = anchor.checkpoint
    name = f"{checkpoint.size:010d}-{anchor.anchored_at.replace(':', '-')}.json"
    written = anchors_folder(settings.home) / name
    for folder in reversed(_folders(settings)):  # the copy first: if it cannot be written,
        # neither is the data folder's, and the next anchoring tries both again
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(anchor.as_json())
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    return written


# -- anchoring -------------------------------------------------------------------------------


def configured(settings: Settings) -> bool:
    return bool(settings.tsa_url or settings.witness_url)


def anchor_if_due(settings: Settings, force: bool = False) -> Path | None:
    """Anchor the seals if a time-stamping authority or a witness is configured, something
    was sealed since the latest anchor, and that anchor is at least
    KRINGLOOP_ANCHOR_INTERVAL old (or ``force``). Never raises: a decision or catch-up is
    never failed by an authority or a witness out of reach; the log says what failed."""
    if not configured(settings):
        return None
    try:
        return anchor(settings, force=force)
    except AnchorRefused as error:
        log.error("not anchored: run `kringloop audit verify`", reason=str(error))
    except Exception as error:
        log.error("anchoring failed", error=f"{type(error).__name__}: {error}")
    return None


def anchor(settings: Settings, force: bool = True) -> Path | None:
    """Anchor the seals now: sign their checkpoint, have it time-stamped and co-signed as
    configured, and keep the anchor. None if nothing was sealed since the latest anchor
    (or it is younger than the interval, unless ``force``), or without the signing key.
    Raises AnchorRefused if the witness holds a longer record than this store."""
    home = settings.home
    seals = len(seal_files(home))
    latest = _latest_own(home)
    if latest is not None:
        if latest.checkpoint.size >= seals:
            return None
        age = datetime.now(tz=UTC) - datetime.fromisoformat(latest.anchored_at)
        if not force and age.total_seconds() < settings.anchor_interval:
            return None
    elif not seals:
        return None
    try:
        key = signing_key(home)
    except KeyUnavailable as error:
        log.warning(
            "anchoring skipped: this process cannot read the signing key", reason=str(error)
        )
        return None
    name = origin(settings)
    leaves = seal_leaves(home)
    checkpoint = Checkpoint(name, len(leaves), merkle.root(leaves))
    note = sign_note(checkpoint.text(), name, key)
    stamp = None
    if settings.tsa_url:
        from adapters.audit.timestamps import request_timestamp

        stamp = request_timestamp(settings.tsa_url, checkpoint.text().encode())
    if settings.witness_url:
        cosigned = latest is not None and len(split_note(latest.note)[1]) > 1
        witnessed = latest.checkpoint.size if latest is not None and cosigned else 0
        note = add_signatures(note, _cosign(settings.witness_url, note, leaves, witnessed))
    return keep(
        settings, Anchor(note, stamp, datetime.now(tz=UTC).isoformat(timespec="microseconds"))
    )


def _latest_own(home: Path) -> Anchor | None:
    """The newest anchor in the data folder, read from the end (not every anchor)."""
    for path in reversed(_anchor_files(anchors_folder(home))):
        if _readable(found := _read_one(path)):
            return found
    return None


def _cosign(url: str, note: str, leaves: Sequence[bytes], old: int) -> list[str]:
    """The witness's cosignature; if it last saw another size than we think (another
    process anchored meanwhile), prove consistency from that size instead."""
    from adapters.audit.witness import WitnessConflict, add_checkpoint

    try:
        return add_checkpoint(url, note, old, merkle.consistency_proof(leaves, old))
    except WitnessConflict as conflict:
        if conflict.size > len(leaves):
            raise AnchorRefused(
                f"the witness at {url} co-signed {conflict.size} seals, this store has "
                f"{len(leaves)}: the record was rolled back"
            ) from None
        return add_checkpoint(
            url, note, conflict.size, merkle.consistency_proof(leaves, conflict.size)
        )


# -- checking anchors (audit verify) -----------------------------------------------------


@dataclass
class Anchoring:
    """What verify found of the anchors: the newest anchored checkpoint the seals still
    match, and by whom it was attested."""

    seals: int = 0  # the seals this store has
    size: int = 0  # the newest anchored checkpoint they still match
    attested_at: str | None = None
    by: list[str] = field(default_factory=list)
    note: str = ""  # why nothing is anchored, or what could not be checked

    def summary(self) -> str:
        if not self.size:
            return self.note[:1].upper() + self.note[1:] + "." if self.note else ""
        since = self.seals - self.size
        return (
            f"Anchored outside the data folder: the first {self.size} of {self.seals} seals, "
            f"attested by {' and '.join(self.by)} at {self.attested_at}"
            + (
                f"; {since} {'seal' if since == 1 else 'seals'} since not yet anchored."
                if since
                else "."
            )
            + (f" ({self.note})" if self.note else "")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seals": self.seals,
            "anchored_seals": self.size,
            "anchored_at": self.attested_at,
            "anchored_by": self.by,
            "anchor_note": self.note,
        }


def check_anchors(settings: Settings, report: Report) -> Anchoring:
    """Hold the seals to every anchor found (data folder, copy, witness): each anchored
    checkpoint must be a prefix of the seals this store has, or the record was rolled back
    (or its seals rewritten). Problems go to ``report``."""
    result = Anchoring(seals=len(seal_files(settings.home)))
    anchors = kept_anchors(settings)
    witness_note = _witness_latest(settings, result, report)
    if witness_note is not None:
        anchors.append(witness_note)
    if not anchors:
        if not result.note:
            result.note = (
                "not anchored: no time stamp or witness holds the seals, so a rollback of "
                "the whole data folder (an older backup put back, re-signed) would not show"
            )
        return result
    leaves = seal_leaves(settings.home)
    result.seals = len(leaves)
    own_origin = origin(settings)
    sizes = {a.checkpoint.size for a in anchors if _readable(a)}
    roots = merkle.roots(leaves, {n for n in sizes if n <= len(leaves)})  # one pass
    failed: dict[str, list[Problem]] = {}  # by attester: the anchors the seals fail
    others: set[str] = set()
    for found in anchors:
        attested = _attested(settings, found, report)
        if attested is None:
            continue
        at, by = attested
        checkpoint = found.checkpoint
        if checkpoint.origin != own_origin:  # an earlier log of this folder (a restore
            others.add(checkpoint.origin)  # started a new one): not this log's to check
            continue
        if checkpoint.size > len(leaves):
            failed.setdefault(by, []).append(
                _rolled_back(found, by, at, checkpoint.size, len(leaves))
            )
            continue
        if roots[checkpoint.size] != checkpoint.root:
            failed.setdefault(by, []).append(
                Problem(
                    "*",
                    checkpoint.size,
                    "rolled back",
                    f"the first {checkpoint.size} seals differ from those {by} attested at "
                    f"{at}: the seals were rewritten, or an older copy was put in place and "
                    f"sealed since ({found.source})",
                    "the sealed record",
                )
            )
            continue
        if checkpoint.size > result.size:
            result.size, result.attested_at, result.by = checkpoint.size, at, []
        if checkpoint.size == result.size and by not in result.by:
            result.by.append(by)
    for problems in failed.values():  # the newest anchor each attester's failed, not each
        newest = max(problems, key=lambda p: p.version)
        more = f" ({len(problems) - 1} earlier anchors fail too)" if len(problems) > 1 else ""
        report.problems.append(
            Problem(
                newest.aggregate, newest.version, newest.kind, newest.detail + more, newest.name
            )
        )
    if result.size and not settings.anchor_copy and not settings.witness_url:
        result.note = (
            "the anchors are kept only in the data folder: a rollback of the whole folder "
            "takes them with it (set KRINGLOOP_ANCHOR_COPY or a witness)"
        )
    if others:
        earlier = ", ".join(sorted(others))
        result.note = "; ".join(
            filter(None, [result.note, f"anchors of an earlier log ({earlier}) left unchecked"])
        )
    return result


def _rolled_back(found: Anchor, by: str, at: str, anchored: int, have: int) -> Problem:
    return Problem(
        "*",
        anchored,
        "rolled back",
        f"{by} attested {anchored} seals at {at}, this store has {have}: the record was "
        f"rolled back (an older copy put in place, by a restore or otherwise), so whatever "
        f"was sealed after seal {have} is gone; or this is another installation under the "
        f"same log name ({found.source})",
        "the sealed record",
    )


def _attested(settings: Settings, found: Anchor, report: Report) -> tuple[str, str] | None:
    """When and by whom an anchor is attested: the time-stamping authority, the witness,
    or (if neither can be checked here) the log's own key; None, with a problem, if none of
    them holds."""
    if not _readable(found):
        report.problems.append(
            Problem("*", 0, "unsealed", f"{found.source}: not an anchor", "the anchors")
        )
        return None
    failures: list[str] = []
    if found.timestamp is not None and settings.tsa_certificates is not None:
        from adapters.audit.timestamps import TimestampError, verify_timestamp

        try:
            when = verify_timestamp(
                found.timestamp,
                split_note(found.note)[0].encode(),
                settings.tsa_certificates.read_bytes(),
            )
            return when.isoformat(), "the time-stamping authority"
        except TimestampError as error:
            failures.append(f"its time stamp fails ({error})")
    if settings.witness_key:
        witness = parse_vkey(settings.witness_key)
        if any(s.name == witness.name for s in split_note(found.note)[1]):
            try:
                seconds = verify_cosignature(found.note, witness)
                return datetime.fromtimestamp(
                    seconds, tz=UTC
                ).isoformat(), f"the witness {witness.name}"
            except ValueError as error:
                failures.append(f"its cosignature fails ({error})")
    if not failures:
        own = public_key_text(settings.home)
        if own is not None:
            try:
                verify_note(found.note, _own_verifier(found, own))
                return (
                    found.anchored_at,
                    "this installation's key (no authority or witness to check it against)",
                )
            except ValueError as error:
                failures.append(f"its signature fails ({error})")
        else:
            failures.append("no key, time-stamping authority or witness to check it with")
    report.problems.append(
        Problem(
            "*",
            found.checkpoint.size,
            "unsealed",
            f"{found.source}: " + "; ".join(failures),
            "the anchors",
        )
    )
    return None


def _readable(found: Anchor) -> bool:
    try:
        return found.checkpoint.size >= 0
    except ValueError:
        return False


def _own_verifier(found: Anchor, public: str) -> Any:
    from adapters.audit.keys import parse_public

    return parse_vkey(vkey(found.checkpoint.origin, parse_public(public)))


def _witness_latest(settings: Settings, result: Anchoring, report: Report) -> Anchor | None:
    if not settings.witness_url:
        return None
    from adapters.audit.witness import WitnessError, latest_checkpoint

    try:
        note = latest_checkpoint(settings.witness_url, origin(settings))
    except WitnessError as error:
        report.problems.append(
            Problem(
                "*",
                0,
                "unanchored",
                f"the witness at {settings.witness_url} could not be asked ({error}): whether "
                "the record was rolled back cannot be checked now",
                "the witness",
            )
        )
        return None
    if note is None:
        result.note = (
            f"the witness at {settings.witness_url} has never seen this log ({origin(settings)})"
        )
        return None
    return Anchor(note, None, "", f"the witness at {settings.witness_url}")
