"""The one output format of the benchmark suite, and where diagnostics go.

Every figure is one JSON object on one line of stdout::

    {"name": ..., "value": ..., "unit": ..., "baseline": ..., "ratio": ...}

``baseline`` is the same work done by the bare library (or a bare process) in the same run.
``ratio`` is oriented so that a value above 1 is always better than the baseline:

* throughputs (higher is better): ``ratio = value / baseline``
* durations (lower is better): ``ratio = baseline / value``

Progress and diagnostics go to stderr, so stdout stays machine-readable. With
``PROFILE = True`` (``run.py --profile``) each timed region of the engine's side also runs
under cProfile and its top costs go to stderr; the figures are then slower than usual.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

Better = Literal["higher", "lower"]
PROFILE = False
PROFILE_LINES = 30


def figure(name: str, value: float, unit: str, baseline: float, better: Better) -> dict[str, Any]:
    """One figure, with its ratio to the baseline oriented so that > 1 means better."""
    if better == "higher":
        ratio = value / baseline if baseline else float("inf")
    else:
        ratio = baseline / value if value else float("inf")
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": round(baseline, 4),
        "ratio": round(ratio, 4),
    }


def emit(row: dict[str, Any]) -> None:
    """Print one figure as one JSON line on stdout."""
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()


def note(message: str) -> None:
    """A progress or diagnostic line, on stderr."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


@contextmanager
def stopwatch(label: str = "", profile: bool = False) -> Iterator[list[float]]:
    """Time a block: the elapsed seconds land in the yielded list's first item.

    With ``profile`` and the module's ``PROFILE`` switch on, the block also runs under
    cProfile and its top costs (by own time and by cumulative time) go to stderr.
    """
    profiler = cProfile.Profile() if profile and PROFILE else None
    elapsed = [0.0]
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    try:
        yield elapsed
    finally:
        if profiler is not None:
            profiler.disable()
        elapsed[0] = time.perf_counter() - start
        if profiler is not None:
            for order in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(PROFILE_LINES)
                note(f"profile of {label} by {order}:\n{out.getvalue()}")
