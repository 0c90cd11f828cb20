"""Notifications on both kinds of read store: the subscription, message and attempt tables
(time-aware timestamps) on SQLite and PostgreSQL, a digest delivered over a real webhook,
its retry and its attempts read back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.notifications import store
from adapters.notifications.deliver import deliver, weekly_digest
from adapters.notifications.webhooks import new_secret
from domain.engine import Engine
from projections.runner import Runner
from tests.conftest import TODAY, runner
from tests.receiver import running_receiver
from tests.scenario import PROGRAMME, programme

SECRET = new_secret()
MONDAY = TODAY - timedelta(days=TODAY.weekday())


@pytest.fixture
def engine(store_env: dict[str, str]) -> Iterator[Engine]:
    with Engine(env=store_env, clock=lambda: TODAY) as opened:
        yield opened


def settings(**changed: Any) -> SimpleNamespace:
    return SimpleNamespace(
        notify_max_age_days=14,
        delivery_attempts=2,
        delivery_backoff=0.0,
        webhook_secret=SecretStr(SECRET),
        webhook_secret_file=None,
        public_url="https://kringloop.test",
        **changed,
    )


def test_a_digest_over_a_webhook_on_either_store(engine: Engine, read_store: Any) -> None:
    programme(runner(engine))
    Runner(engine, read_store).catch_up()
    reads = read_store.engine
    store.create_tables(reads)
    with running_receiver(SECRET, fail_first=2) as receiver:
        store.subscribe(reads, "board", "board", webhook_url=receiver.url, language="en")
        assert weekly_digest(engine, read_store, MONDAY, PROGRAMME) is not None
        first = deliver(engine, reads, settings(), MONDAY)
        assert (first.queued, first.retrying) == (1, 1)
        second = deliver(engine, reads, settings(), MONDAY)
        assert second.failed == 1, "given up after two tries"
        (failed,) = store.messages(reads, "failed")
        assert failed.created_at.utcoffset() is not None, "read back time-aware"
        assert store.retry(reads, failed.id) is not None
        third = deliver(engine, reads, settings(), MONDAY)
        assert third.sent == 1
    (sent,) = store.messages(reads, "sent")
    assert [a.outcome for a in store.attempts_of(reads, sent.id)] == ["failed", "failed", "sent"]
    assert store.subscription(reads, "board").language == "en"  # type: ignore[union-attr]
    ((_, payload),) = receiver.received
    assert (payload["type"], payload["recipient"]) == ("weekly-digest", "board")
