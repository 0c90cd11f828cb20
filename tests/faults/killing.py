"""Start a child of ``tests.faults.child``, wait until it reaches the moment, SIGKILL it.
Every child is killed when its test ends, whatever happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WAIT = 120.0


def inherited() -> dict[str, str]:
    """This environment without Kringloop's settings: a child uses the stores it is given."""
    return {k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")}


class Child:
    def __init__(self, process: subprocess.Popen[bytes], out: Path, err: Path) -> None:
        self.process = process
        self.out, self.err = out, err

    def errors(self) -> str:
        return self.err.read_text()[-3000:]

    def reach(self, marker: Path, what: str) -> None:
        """Wait until the child writes ``marker``; fail if it ends or never gets there."""
        self.until(marker.exists, what)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"the child ended before {what}:\n{self.errors()}")
            assert time.monotonic() < deadline, f"the child never reached {what}"
            time.sleep(0.01)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL

    def result(self) -> dict[str, Any]:
        """Wait for the child to finish on its own; its JSON answer."""
        self.process.wait(timeout=WAIT)
        assert self.process.returncode == 0, f"the child failed:\n{self.errors()}"
        answer: dict[str, Any] = json.loads(self.out.read_text().strip().splitlines()[-1])
        return answer


@contextmanager
def child(
    role: str, args: dict[str, Any], folder: Path, env: dict[str, str] | None = None
) -> Iterator[Child]:
    """Run ``role`` with ``args`` in a fresh interpreter; killed on the way out if alive."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{role}-{time.monotonic_ns()}"
    path, out, err = (stem.with_suffix(s) for s in (".json", ".out", ".err"))
    path.write_text(json.dumps(args, default=str))
    # output goes to files, not pipes: a chatty child never blocks on a full pipe
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.child", role, str(path)],
            env={**inherited(), "PYTHONPATH": os.getcwd(), **(env or {})},
            stdout=stdout,
            stderr=stderr,
        )
    try:
        yield Child(process, out, err)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def run_to_end(
    role: str, args: dict[str, Any], folder: Path, env: dict[str, str] | None = None
) -> dict[str, Any]:
    with child(role, args, folder, env) as c:
        return c.result()
