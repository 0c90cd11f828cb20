"""`kringloop notifications deliver` SIGKILLed after the receiver took a webhook and before
the sender marked it sent (the receiver kills the sender before it answers): the next run
sends that message again with the same webhook-id, which the receiver recognises, and
nothing else twice."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from adapters.notifications.webhooks import new_secret
from tests.e2e.test_cli import KRINGLOOP, as_json, kringloop
from tests.receiver import running_receiver

MONDAY = "2026-11-30"


def test_a_sender_killed_between_sending_and_marking_sent(tmp_path: Path) -> None:
    secret = new_secret()
    env = {"KRINGLOOP_WEBHOOK_SECRET": secret}
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    with running_receiver(secret) as receiver:
        for identity, digest in (("board-secretariat", "--immediate"), ("broker-anna", "--digest")):
            kringloop(
                tmp_path,
                "notifications",
                "subscribe",
                identity,
                "--webhook",
                receiver.url,
                digest,
                "--actor",
                "board-secretariat",
            )
        kringloop(tmp_path, "notifications", "digest", "--today", MONDAY)

        sender = subprocess.Popen(
            [*KRINGLOOP, "notifications", "deliver", "--today", MONDAY, "--json"],
            env={**os.environ, "KRINGLOOP_HOME": str(tmp_path), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        killed: list[int] = []

        def kill_the_sender() -> None:
            if not killed:  # only the first message: the sender dies before the answer
                killed.append(sender.pid)
                os.kill(sender.pid, signal.SIGKILL)

        receiver.on_accept = kill_the_sender
        sender.communicate(timeout=120)
        assert sender.returncode == -signal.SIGKILL
        ((first, _),) = receiver.received
        listed = as_json(kringloop(tmp_path, "notifications", "list", "--json", env=env))
        assert {m["status"] for m in listed} == {"pending"}, "not marked sent: it was killed"

        rerun = as_json(
            kringloop(tmp_path, "notifications", "deliver", "--today", MONDAY, "--json", env=env)
        )
        assert (rerun["queued"], rerun["sent"]) == (0, 2)
        counts = Counter(webhook_id for webhook_id, _ in receiver.received)
        assert counts[first] == 2, "the same message again, with the same id"
        assert sorted(counts.values()) == [1, 2], "nothing else twice"
        again = as_json(
            kringloop(tmp_path, "notifications", "deliver", "--today", MONDAY, "--json", env=env)
        )
        assert again["sent"] == 0
    listed = as_json(kringloop(tmp_path, "notifications", "list", "--json", env=env))
    assert sorted(m["recipient"] for m in listed) == ["board-secretariat", "broker-anna"]
    assert {m["status"] for m in listed} == {"sent"}


pytestmark = pytest.mark.timeout(300)
