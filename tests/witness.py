"""A witness (adapters.audit.witness) as a real separate process, for the tests that need
an independent party: started on a free port it picks itself (``--port 0``, so no race for
a port), waited for until it answers, and stopped when the test ends."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from adapters.audit.notes import parse_vkey
from adapters.audit.witness import WitnessError, latest_checkpoint, witness_vkey

ROOT = Path(__file__).resolve().parent.parent
START = 60.0
_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class RunningWitness:
    """A witness process: its address, its public key (cosignature/v1), the process."""

    url: str
    vkey: str
    process: subprocess.Popen[str]
    log: IO[str] = field(repr=False)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and wait for it: its state folder is
        free for the next one."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()

    def __enter__(self) -> RunningWitness:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def start_witness(state: Path, logs: dict[str, str], name: str = "test-witness") -> RunningWitness:
    """``python -m adapters.cli.witness serve`` for these logs (origin -> log vkey; the
    origin is the vkey's name), once it answers HTTP."""
    for origin, vkey in logs.items():
        assert parse_vkey(vkey).name == origin, f"{vkey} is the key of {origin}"
    command = [sys.executable, "-m", "adapters.cli.witness", "serve", "--state", str(state)]
    command += ["--name", name, "--host", "127.0.0.1", "--port", "0"]
    for vkey in logs.values():
        command += ["--log", vkey]
    log = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed by stop)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, encoding="utf-8"
    )
    running = RunningWitness("", "", process, log)
    try:
        running.url = _announced(process, log)
        _wait_answering(running)
        running.vkey = witness_vkey(state, name)
    except BaseException:
        running.stop()
        raise
    return running


def _announced(process: subprocess.Popen[str], log: IO[str]) -> str:
    """The address the witness prints once it is bound."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        first = lines.get(timeout=START)
    except queue.Empty:
        first = ""
    found = _LISTENING.search(first)
    if found is None:
        process.kill()
        process.wait(timeout=10)
        log.seek(0)
        raise AssertionError(f"the witness did not start: {first!r}\n{log.read()[-3000:]}")
    return found.group(1)


def _wait_answering(running: RunningWitness) -> None:
    deadline = time.monotonic() + START
    while True:
        try:
            latest_checkpoint(running.url, "nobody.example/no-such-log", timeout=2)
            return
        except WitnessError:
            assert running.process.poll() is None, "the witness process is running"
            assert time.monotonic() < deadline, "the witness answered within a minute"
            time.sleep(0.05)
