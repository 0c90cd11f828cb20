"""Signed exports: a self-contained JSON-lines bundle of events (as stored and as read),
their chain, and an Ed25519 signature, checkable offline with only the public key."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.audit.chain import GENESIS, content_hash, link
from adapters.audit.keys import parse_public, public_text, sign, signing_key, verify
from adapters.audit.verify import DESTROYED_TOPIC, approved_entries

FORMAT = "kringloop-audit-export/1"


def write_export(
    path: Path,
    home: Path,
    scope: str,
    stored: list[Any],
    chain: dict[tuple[str, int], Any],
    decode: Any,
    destroyed: dict[tuple[str, int], dict[str, Any]] | None = None,
) -> int:
    """Write the bundle: a header, one line per event, and a signature over all of it. An
    event destroyed under an approved list carries that list's entry (``destroyed``), so
    the bundle checks offline: the signature vouches for the approval."""
    key = signing_key(home)
    lines = [
        json.dumps(
            {
                "format": FORMAT,
                "scope": scope,
                "public_key": public_text(key),
                "exported_at": datetime.now(tz=UTC).isoformat(),
                "events": len(stored),
            }
        )
    ]
    for s in stored:
        row = chain[(s.originator_id, s.version)]
        lines.append(
            json.dumps(
                {
                    "notification_id": s.notification_id,
                    "aggregate": s.originator_id,
                    "version": s.version,
                    "topic": s.topic,
                    "state": base64.b64encode(s.state).decode(),
                    "content_hash": row.content_hash,
                    "chain_hash": row.chain_hash,
                    "event": decode(s),
                    **_approval(s, destroyed or {}),
                },
                default=str,
                ensure_ascii=False,
            )
        )
    body = ("\n".join(lines) + "\n").encode()
    digest = hashlib.sha256(body).hexdigest()
    signature = json.dumps({"sha256": digest, "signature": sign(key, digest.encode())})
    path.write_bytes(body + signature.encode() + b"\n")
    return len(stored)


def _approval(s: Any, destroyed: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    entry = destroyed.get((s.originator_id, s.version)) if s.topic == DESTROYED_TOPIC else None
    return {"destroyed": entry} if entry else {}


@dataclass
class ExportCheck:
    events: int = 0
    aggregates: int = 0
    destroyed: int = 0  # events destroyed under an approved list (tombstones)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_export(path: Path, public_key: str) -> ExportCheck:
    """Verify a bundle with nothing but the file and the public key."""
    check = ExportCheck()
    raw = path.read_bytes()
    body, _, trailer = raw.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    try:
        signed = json.loads(trailer)
        header = json.loads(body.split(b"\n", 1)[0])
    except (json.JSONDecodeError, UnicodeDecodeError, IndexError):
        check.problems.append("not a Kringloop export: unreadable header or signature line")
        return check
    if header.get("format") != FORMAT:
        check.problems.append(f"not a Kringloop export (format {header.get('format')!r})")
        return check
    digest = hashlib.sha256(body).hexdigest()
    if digest != signed.get("sha256"):
        check.problems.append("the content differs from what was signed")
    if not verify(parse_public(public_key), digest.encode(), str(signed.get("signature", ""))):
        check.problems.append("the signature does not match this public key")
    _check_chains(body, check)
    return check


def _check_chains(body: bytes, check: ExportCheck) -> None:
    previous: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(body.split(b"\n")[1:-1], start=2):
        try:
            e = json.loads(line)
            state = base64.b64decode(e["state"], validate=True)
        except (ValueError, KeyError):
            check.problems.append(f"line {number}: unreadable event")
            continue
        check.events += 1
        content = content_hash(e["aggregate"], e["topic"], state)
        if content != e["content_hash"]:
            if _destroyed_as_approved(e, state):
                check.destroyed += 1
            else:
                check.problems.append(f"line {number}: {e['aggregate']} v{e['version']} altered")
        before = previous.get(e["aggregate"])
        if before is None:
            check.aggregates += 1
        start = GENESIS if e["version"] == 1 else None
        if before is not None and before[0] == e["version"] - 1:
            start = before[1]
        if start is not None and link(start, e["content_hash"]) != e["chain_hash"]:
            check.problems.append(
                f"line {number}: {e['aggregate']} v{e['version']} breaks the chain"
            )
        previous[e["aggregate"]] = (e["version"], e["chain_hash"])


def _destroyed_as_approved(e: dict[str, Any], state: bytes) -> bool:
    """A tombstone that names the chain's content hash, with the approved list's entry for
    that event and hash: destroyed, not altered."""
    entry = e.get("destroyed")
    if e.get("topic") != DESTROYED_TOPIC or not isinstance(entry, dict):
        return False
    try:
        tomb = json.loads(state)
    except ValueError:
        return False
    named = tomb.get("content_hash") if isinstance(tomb, dict) else None
    return bool(named == e["content_hash"] == entry.get("content_hash"))


def paged(fetch: Any, start: tuple[str, int] = ("", 0), only: str | None = None) -> Any:
    """Rows of a recorder's ``stored_page`` or ``chain_page``, in (aggregate, version) order
    from ``start``; with ``only``, stop once past that aggregate."""
    after = start
    while page := fetch(after, 20_000):
        for row in page:
            if only is not None and row.originator_id != only:
                if row.originator_id > only:
                    return
                continue
            yield row
        after = (page[-1].originator_id, page[-1].version)


def export_record(engine: Any, home: Path, out: Path, initiative_id: str | None = None) -> str:
    """Write the signed bundle of one initiative's events (or of every event) to ``out``;
    return its scope. The caller verifies the chain first."""
    from uuid import UUID

    from eventsourcing.persistence import StoredEvent

    from domain.reading import decision_entry

    recorder = engine.recorder
    target = engine.initiative(initiative_id).id.hex if initiative_id else None
    stored = sorted(
        paged(recorder.stored_page, (target or "", 0), target), key=lambda r: r.notification_id
    )
    chain = {
        (c.originator_id, c.version): c
        for c in paged(recorder.chain_page, (target or "", 0), target)
    }

    def decode(row: Any) -> Any:
        event = engine.mapper.to_domain_event(
            StoredEvent(UUID(row.originator_id), row.version, row.topic, row.state)
        )
        return decision_entry(event).model_dump(mode="json")

    scope = f"initiative {initiative_id}" if initiative_id else "all"
    destroyed = approved_entries(recorder, engine.mapper)
    write_export(out, home, scope, stored, chain, decode, destroyed)
    return scope
