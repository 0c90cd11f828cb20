"""Child processes for the multi-process tests, run so that none can outlive its test.

A child that dies before a barrier leaves its partners waiting; a non-daemon child still
waiting when pytest ends keeps the interpreter from exiting (multiprocessing joins them at
exit). Here every child is a daemon, barriers time out, every child's result or error comes
back through one queue, and whatever is still alive when the test ends is killed.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

WAIT = 120.0


def _child(target: Callable[..., Any], args: tuple[Any, ...], results: Any) -> None:
    try:
        results.put(("ok", target(*args)))
    except BaseException:  # report everything: the parent shows it in the failure
        results.put(("error", traceback.format_exc()))


@contextmanager
def spawned(
    target: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]
) -> Iterator[list[Any]]:
    """Run target(*args) in one spawned daemon process per argument tuple; yield their return
    values (in completion order). A child's exception fails the test with its traceback."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_child, args=(target, args, results), daemon=True)
        for args in arguments
    ]
    try:
        for p in processes:
            p.start()
        outcomes = []
        for _ in processes:
            try:
                outcomes.append(results.get(timeout=WAIT))
            except queue.Empty:
                codes = [p.exitcode for p in processes]
                raise AssertionError(
                    f"a child gave no result in {WAIT:.0f} s; exit codes {codes}"
                ) from None
        errors = [detail for status, detail in outcomes if status == "error"]
        assert not errors, "a child process failed:\n" + "\n".join(errors)
        for p in processes:
            p.join(timeout=WAIT)
        yield [value for _, value in outcomes]
    finally:
        for p in processes:
            if p.is_alive():
                p.kill()
                p.join(timeout=10)


def barrier(parties: int) -> Any:
    """A barrier the children of `spawned` can share (same spawn context)."""
    return multiprocessing.get_context("spawn").Barrier(parties, timeout=WAIT)
