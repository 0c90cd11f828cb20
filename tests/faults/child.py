"""The processes the fault tests kill: ``python -m tests.faults.child ROLE ARGS.json``.

Each role does real work on real stores. Where a test must kill it at one precise moment,
the test names that moment in ``halt``: the child wraps the library or Kringloop function
that starts the moment (in this process only; the product has no hooks), writes a marker
file when it gets there, and waits to be killed. The parent watches for the marker and
sends SIGKILL, so the kill lands inside the window every time.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELD = 120.0  # the parent kills long before this; it only bounds an orphan's life


def halt(marker: str, release: str | None = None) -> None:
    """Say we are here; then wait to be killed or, given a release file, for it to appear."""
    Path(marker).write_text("here")
    deadline = time.monotonic() + HELD
    while time.monotonic() < deadline:
        if release and Path(release).exists():
            return
        time.sleep(0.01)
    raise SystemExit("never killed nor released")  # the parent gave up: do not go on silently


def on_call(
    original: Callable[..., Any], n: int, marker: str, before: bool, release: str | None = None
) -> Callable[..., Any]:
    """``original``, except that its n-th call halts (before it runs, or after it returned)."""
    calls = {"n": 0}

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if before and calls["n"] == n:
            halt(marker, release)
        result = original(*args, **kwargs)
        if not before and calls["n"] == n:
            halt(marker, release)
        return result

    return wrapped


def decide(args: dict[str, Any]) -> dict[str, Any]:
    """Execute commands one by one; append each acknowledged command id to the ack file."""
    from domain.commands.catalogue import parse_command
    from domain.engine import Engine

    engine = Engine(env={**args["env"], "CREATE_TABLE": "n"}, clock=_clock(args))
    halt_at = args.get("halt")
    if halt_at:
        recorder = engine.recorder
        if halt_at["at"] == "in-append":  # events and chain links written, not committed
            name = (
                "_fetch_ids_after_insert_events"  # PostgreSQL: after the pipeline's sync
                if hasattr(recorder, "_fetch_ids_after_insert_events")
                else "_insert_events"
            )
            setattr(
                recorder,
                name,
                on_call(getattr(recorder, name), halt_at["n"], halt_at["marker"], before=False),
            )
        else:  # "committed": the transaction is committed, the caller has not heard
            recorder.insert_events = on_call(  # type: ignore[method-assign]
                recorder.insert_events, halt_at["n"], halt_at["marker"], before=False
            )
    recorded = replayed = 0
    with Path(args["acks"]).open("a") as acks:
        for fields in args["commands"]:
            outcome = engine.execute(parse_command(fields))
            acks.write(f"{outcome.command_id}\n")
            acks.flush()  # in the kernel's hands: a SIGKILL cannot take it back
            replayed += outcome.replayed
            recorded += not outcome.replayed
    engine.close()
    return {"recorded": recorded, "replayed": replayed}


def _clock(args: dict[str, Any]) -> Callable[[], Any]:
    from datetime import date

    today = date.fromisoformat(args.get("today", "2024-06-03"))
    return lambda: today


def catch_up(args: dict[str, Any]) -> dict[str, Any]:
    """A projection runner; it can halt inside its n-th batch (rows written, not committed),
    and mark the moment it starts (so a rival can be started against a held lock)."""
    from domain.engine import Engine
    from projections.runner import Runner
    from projections.store import ReadStore
    from projections.working_set import WorkingSet

    halt_at = args.get("halt")
    if halt_at:
        WorkingSet.flush = on_call(  # type: ignore[method-assign]
            WorkingSet.flush, halt_at["n"], halt_at["marker"], before=False
        )
    engine = Engine(env={**args["env"], "CREATE_TABLE": "n"})
    store = ReadStore(args["url"], args["schema"])
    runner = Runner(engine, store, batch_size=args["batch"])
    runner.position()  # connected: what follows is the catch-up itself
    if args.get("started"):
        Path(args["started"]).write_text("starting")
    applied = runner.catch_up()
    engine.close()
    store.close()
    return {"applied": applied}


def rebuild(args: dict[str, Any]) -> dict[str, Any]:
    """A rebuild; it can halt while filling the fresh tables (in its n-th batch) or while
    swapping them in (after the n-th table was renamed, before the commit)."""
    from sqlalchemy import event

    from domain.engine import Engine
    from projections.runner import Runner
    from projections.store import ReadStore
    from projections.working_set import WorkingSet

    store = ReadStore(args["url"], args["schema"])
    halt_at = args.get("halt")
    if halt_at and halt_at["at"] == "filling":
        WorkingSet.flush = on_call(  # type: ignore[method-assign]
            WorkingSet.flush, halt_at["n"], halt_at["marker"], before=False
        )
    elif halt_at:  # "swapping"
        renamed = {"n": 0}

        def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith("ALTER TABLE"):
                renamed["n"] += 1
                if renamed["n"] == halt_at["n"]:
                    halt(halt_at["marker"])

        event.listen(store.engine, "after_cursor_execute", after)
    engine = Engine(env={**args["env"], "CREATE_TABLE": "n"})
    applied = Runner(engine, store, batch_size=args["batch"]).rebuild()
    engine.close()
    store.close()
    return {"applied": applied}


def flow(args: dict[str, Any]) -> dict[str, Any]:
    """The scale-up check, a real Prefect flow run against the test's Prefect server; it can
    halt between two tasks: after n - 1 pages were assessed and recorded, before the next
    page is looked for (and be killed there, or released to go on)."""
    from datetime import date

    import flows.scale_up_check as module
    from flows import runtime

    halt_at = args.get("halt")
    if halt_at:  # the flow calls find_candidates once per page, then once to find none
        module.find_candidates = on_call(  # type: ignore[assignment]
            module.find_candidates,
            halt_at["n"],
            halt_at["marker"],
            before=True,
            release=halt_at.get("release"),
        )
    result = module.scale_up_check(
        programme_id=args["programme"],
        today=date.fromisoformat(args["today"]),
        page_size=args["page"],
    )
    runtime.close()
    return result


ROLES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "decide": decide,
    "catch-up": catch_up,
    "rebuild": rebuild,
    "flow": flow,
}

if __name__ == "__main__":
    role, path = sys.argv[1], sys.argv[2]
    outcome = ROLES[role](json.loads(Path(path).read_text()))
    sys.stdout.write(json.dumps(outcome, default=str) + "\n")
