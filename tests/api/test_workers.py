"""`kringloop api --workers 2`: two processes serve one data folder, and it does not matter
which of them answers. A session opened on one is open on the other and ended on both; the
login throttle's failures add up over both, so spreading guesses over the workers gains
nothing. Each response names the worker that answered (X-Kringloop-Worker), and every request
comes on a connection of its own, so both workers take their share."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from adapters.api.workers import WORKER_HEADER
from tests.security.conftest import csrf_of
from tests.serving import answering, free_port

pytestmark = pytest.mark.slow

FREE = 5  # failures from one address before it waits (adapters.api.throttle)
GUESS = {"Authorization": "Bearer kl_guess"}
ENOUGH = 200  # requests within which both workers have answered, or the test fails


@dataclass
class Served:
    base: str
    home: Path
    tokens: dict[str, str]
    server: subprocess.Popen[str]

    def client(self, address: str = "127.0.0.1") -> httpx.Client:
        """A client from ``address`` (any loopback address will do) that opens a new
        connection for every request: a kept connection would stay with one worker."""
        transport = httpx.HTTPTransport(
            local_address=address, limits=httpx.Limits(max_keepalive_connections=0)
        )
        return httpx.Client(base_url=self.base, transport=transport, timeout=30)


@pytest.fixture(scope="module")
def two_workers(
    first_steps: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    template, tokens = first_steps
    home = tmp_path_factory.mktemp("workers") / "home"
    shutil.copytree(template, home)
    port = free_port()
    with (home.parent / "api.log").open("w") as log:
        server = subprocess.Popen(
            [*_KRINGLOOP, "--home", str(home), "api", "--port", str(port), "--workers", "2"],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("KRINGLOOP_")},
        )
        try:
            served = Served(answering(server, port), home, tokens, server)
            _both_started(served)
            yield served
        finally:
            server.terminate()  # uvicorn's supervisor stops its workers, then itself
            server.wait(timeout=60)


_KRINGLOOP = [sys.executable, "-m", "adapters.cli"]


def _both_started(served: Served) -> None:
    """Wait (a minute at most) until both workers have answered a health check."""
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    with served.client() as probe:
        while len(seen) < 2:
            assert time.monotonic() < deadline, f"only {seen} of two workers answered"
            seen.add(worker(probe.get("/api/health")))
            time.sleep(0.05)


def worker(answer: httpx.Response) -> str:
    return answer.headers[WORKER_HEADER]


def test_a_session_opened_on_one_worker_is_open_on_both_and_ends_on_both(
    two_workers: Served,
) -> None:
    with two_workers.client() as browser:
        csrf = csrf_of(browser.get("/login").text)
        opened = browser.post(
            "/login", data={"token": two_workers.tokens["audrey"], "csrf_token": csrf}
        )
        assert opened.status_code == 303, opened.text
        served_by: set[str] = set()
        for _ in range(ENOUGH):
            page = browser.get("/pipeline")
            assert page.status_code == 200, "the session is open whichever worker answers"
            served_by.add(worker(page))
            if len(served_by) == 2:
                break
        assert len(served_by) == 2, "both workers served the session"

        ended = browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert ended.status_code == 303
    copy = {"Cookie": f"kringloop_session={opened.cookies['kringloop_session']}"}
    refused_by: set[str] = set()
    with two_workers.client() as other:
        for _ in range(ENOUGH):
            page = other.get("/pipeline", headers=copy)
            assert page.status_code == 303, "a copy of the ended session's cookie opens nothing"
            assert page.headers["location"].startswith("/login")
            refused_by.add(worker(page))
            if len(refused_by) == 2:
                break
    assert len(refused_by) == 2, "both workers refused the ended session"


def test_both_workers_give_one_etag_so_either_answers_not_modified(two_workers: Served) -> None:
    bearer = {"Authorization": f"Bearer {two_workers.tokens['audrey']}"}
    etags: dict[str, str] = {}
    with two_workers.client() as client:
        for _ in range(ENOUGH):
            answer = client.get("/api/pipeline", headers=bearer)
            assert answer.status_code == 200
            etags[worker(answer)] = answer.headers["etag"]
            if len(etags) == 2:
                break
        assert len(etags) == 2, "both workers answered"
        assert len(set(etags.values())) == 1, f"one ETag for one answer: {etags}"
        (etag,) = set(etags.values())
        not_modified: set[str] = set()
        for _ in range(ENOUGH):
            again = client.get("/api/pipeline", headers={**bearer, "If-None-Match": etag})
            assert again.status_code == 304
            not_modified.add(worker(again))
            if len(not_modified) == 2:
                break
        assert len(not_modified) == 2, "each worker answered 304 to the other's ETag"


def test_failures_spread_over_both_workers_add_up_to_one_count(two_workers: Served) -> None:
    """Guesses from one address until the first 429. Shown once it comes from a worker that
    itself answered no more than the free failures: counting alone, that worker would have
    let the guess through. Each round guesses from a loopback address of its own; a round
    whose failures all went to the refusing worker shows nothing, and the next one tries
    again (eight rounds of at most eleven stay inside the budget for all addresses)."""
    for round_ in range(2, 10):
        address = f"127.0.0.{round_}"
        with two_workers.client(address) as guesser:
            answers = []
            for _ in range(FREE + 6):
                answer = guesser.get("/api/pipeline", headers=GUESS)
                answers.append((answer.status_code, worker(answer)))
                if answer.status_code == 429:
                    break
        status, refuser = answers[-1]
        assert status == 429, f"guessing from {address} was slowed: {answers}"
        failed = [who for status, who in answers if status == 401]
        assert len(failed) >= FREE + 1
        assert _failures_on_record(two_workers.home, f"api:{address}") == len(failed)
        if failed.count(refuser) <= FREE:  # so the other worker's failures counted too
            return
    pytest.fail("in no round did the guesses reach both workers before the first 429")


def _failures_on_record(home: Path, key: str) -> int:
    with sqlite3.connect(f"file:{home / 'read.sqlite'}?mode=ro", uri=True) as db:
        found = db.execute(
            "SELECT failures FROM kringloop_login_failure WHERE client_key = ?", (key,)
        ).fetchone()
    return int(found[0]) if found else 0


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_no_workers_is_refused_in_one_line(workers: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*_KRINGLOOP, "--home", str(tmp_path), "api", "--workers", workers],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    said = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(said) == 1, done.stderr
    assert "'--workers'" in said[0]
