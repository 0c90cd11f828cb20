"""Sealing as the record grows: after a decision or a catch-up batch, the chain heads that
moved since the latest seal are sealed (at most once per KRINGLOOP_SEAL_INTERVAL), so the
tail a forger could still rewrite without the signing key stays short.

Only what was recorded after the latest seal is read (from its ``position`` on): each moved
aggregate's chain must still pass through its sealed head, and its new links and events
must hold, or nothing is sealed (a seal must never cover a rewrite of sealed history; `audit
verify` then names it). Whoever cannot read the signing key skips sealing with a log line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.audit.anchoring import anchor_if_due
from adapters.audit.chain import GENESIS, Chained, content_hash, link
from adapters.audit.keys import KeyUnavailable, public_text, signing_key
from adapters.audit.verify import (
    Heads,
    Report,
    _heads_of,
    event_name,
    latest_seal,
    log,
    seal,
    signed_by,
    verify_store,
)
from adapters.settings import Settings

PAGE = 5_000


class CannotSeal(Exception):
    """The tail does not extend the sealed heads: run `kringloop audit verify`."""


def auto_seal(engine: Any, settings: Settings, force: bool = False) -> Path | None:
    """Seal the heads that moved, if the latest seal is at least ``settings.seal_interval``
    seconds old (or ``force``), then anchor the seals if that is due
    (adapters.audit.anchoring). Never fails the decision or catch-up it follows."""
    recorder = engine.recorder
    if not isinstance(recorder, Chained):
        return None
    sealed = None
    try:
        sealed = seal_tail(
            recorder, engine.mapper, settings.home, 0.0 if force else settings.seal_interval
        )
    except CannotSeal as error:
        log.error("not sealing: run `kringloop audit verify`", reason=str(error))
    except Exception as error:  # a seal is never worth a failed decision
        log.error("sealing failed", error=f"{type(error).__name__}: {error}")
    if sealed is not None or force:
        anchor_if_due(settings, force=force)
    return sealed


def seal_verified(settings: Settings, report: Report, heads: Heads) -> Path | None:
    """After a verify: seal the heads it found (unless the chain itself is broken: a seal
    must never cover that; a rollback is no reason not to seal what is there), and anchor
    the seals if that is due."""
    if not report.sealable:
        return None
    sealed = seal(settings.home, heads, report.names, report.position)
    anchor_if_due(settings)
    return sealed


class Sealer:
    """Seals after catch-up batches (`projections follow`): looks at most once per
    interval (at least a second), so a long catch-up does not read the latest seal per
    batch."""

    def __init__(self, engine: Any, settings: Any) -> None:
        self.engine, self.settings = engine, settings
        self.looked = float("-inf")

    def __call__(self) -> Path | None:
        now = time.monotonic()
        if now - self.looked < max(self.settings.seal_interval, 1.0):
            return None
        self.looked = now
        return auto_seal(self.engine, self.settings)


def seal_tail(recorder: Any, mapper: Any, home: Path, interval: float = 0.0) -> Path | None:
    """Seal what was recorded since the latest seal; None if nothing moved, the latest seal
    is younger than ``interval`` seconds, or this process cannot read the signing key."""
    try:
        key = signing_key(home)
    except KeyUnavailable as error:
        log.warning("sealing skipped: this process cannot read the signing key", reason=str(error))
        return None
    latest = latest_seal(home)
    if latest is not None and interval > 0:
        age = datetime.now(tz=UTC) - datetime.fromisoformat(str(latest["recorded_at"]))
        if age.total_seconds() < interval:
            return None
    if (
        latest is not None
        and "position" in latest
        and int(latest["position"]) >= (recorder.max_notification_id() or 0)
    ):
        return None  # nothing moved: no need to check a signature over every head
    if latest is not None and not signed_by(latest, public_text(key)):
        raise CannotSeal("the latest seal fails its signature")
    if latest is None or "position" not in latest:
        # the first seal (or one from before positions): verify everything once
        report, heads = verify_store(recorder, home, mapper=mapper, anchors=False)
        if not report.ok:
            raise CannotSeal(f"{len(report.problems)} problems in the record")
        return seal(home, heads, report.names, report.position)
    position = int(latest["position"])
    heads = _heads_of(latest)
    names: dict[str, str] = dict(latest.get("names", {}))
    moved: dict[str, list[Any]] = {}
    newest = position
    for notification in _after(recorder, position):
        newest = max(newest, notification.id)
        moved.setdefault(notification.originator_id.hex, []).append(notification)
    if newest == position:
        return None
    for aggregate, recorded in moved.items():
        first = recorded[0]
        if aggregate not in names and first.originator_version == 1 and (n := _name(mapper, first)):
            names[aggregate] = n
        extended = _extend(recorder, aggregate, heads.get(aggregate), recorded)
        if extended is not None:
            heads[aggregate] = extended
    return seal(home, heads, names, newest)


def _after(recorder: Any, position: int) -> Iterator[Any]:
    while page := recorder.select_notifications(
        start=position, limit=PAGE, inclusive_of_start=False
    ):
        yield from page
        position = page[-1].id


def _name(mapper: Any, notification: Any) -> str | None:
    try:
        return event_name(mapper.to_domain_event(notification))
    except Exception:  # a garbled first event has no name; verify says what is wrong
        return None


def _extend(
    recorder: Any, aggregate: str, sealed: tuple[int, str] | None, recorded: list[Any]
) -> tuple[int, str] | None:
    """The aggregate's new head, after checking its chain from the sealed head on; None if
    nothing past the sealed head was recorded."""
    since, sealed_hash = sealed if sealed is not None else (0, GENESIS)
    newest = max(n.originator_version for n in recorded)
    if newest <= since:
        return None
    start = max(since - 1, 0)  # chain_page starts after this key: at the sealed head
    rows = [
        r
        for r in recorder.chain_page((aggregate, start), newest - start)
        if r.originator_id == aggregate
    ]
    if since:
        if not rows or rows[0].version != since or rows[0].chain_hash != sealed_hash:
            raise CannotSeal(f"{aggregate} no longer passes through its sealed head")
        rows = rows[1:]
    if [r.version for r in rows] != list(range(since + 1, newest + 1)):
        raise CannotSeal(f"{aggregate}: the chain lacks versions {since + 1} to {newest}")
    contents = {
        n.originator_version: content_hash(aggregate, n.topic, bytes(n.state)) for n in recorded
    }
    previous = sealed_hash
    for row in rows:
        if row.version in contents and contents[row.version] != row.content_hash:
            raise CannotSeal(f"{aggregate} version {row.version} differs from its link")
        if row.chain_hash != link(previous, row.content_hash):
            raise CannotSeal(f"{aggregate} version {row.version}: its link was changed")
        previous = row.chain_hash
    return newest, previous


__all__ = ["CannotSeal", "Heads", "Sealer", "auto_seal", "seal_tail", "seal_verified"]
