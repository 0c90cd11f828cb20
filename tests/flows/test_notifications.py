"""Notifications end to end: the deadlines flow's escalations mailed to the initiative's
broker in Dutch through a real SMTP server (STARTTLS, login), the Monday digest once per
week, webhooks retried until the receiver takes them, a receiver that stays down given up
without holding up anything else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.notifications import store
from adapters.notifications.webhooks import new_secret
from domain.engine import today_in_programme_tz
from domain.values import Stage
from flows import runtime
from flows.deadlines import escalate_deadlines
from flows.form_consortium import form_consortium
from flows.notifications import deliver_notifications, send_weekly_digest
from projections import queries
from tests.conftest import TODAY, Run
from tests.e2e.test_cli import kringloop
from tests.receiver import Receiver, running_receiver
from tests.scenario import BROKER, PROGRAMME, checked_programme, initiative_at
from tests.smtp import TestSMTP, running_smtp

SECRET = new_secret()


@pytest.fixture
def mailbox(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestSMTP]:
    """A real SMTP server (STARTTLS and login required), and the flows' settings pointing
    at it; webhooks signed with SECRET; retries without waiting."""
    with running_smtp(home / "smtp") as smtp:
        for name, value in {
            "KRINGLOOP_SMTP_HOST": smtp.host,
            "KRINGLOOP_SMTP_PORT": str(smtp.port),
            "KRINGLOOP_SMTP_USER": smtp.user,
            "KRINGLOOP_SMTP_PASSWORD": smtp.password,
            "KRINGLOOP_SMTP_CA_FILE": str(smtp.ca_file),
            "KRINGLOOP_SMTP_FROM": "programmabureau@kringloop.test",
            "KRINGLOOP_PUBLIC_URL": "https://kringloop.test",
            "KRINGLOOP_WEBHOOK_SECRET": SECRET,
            "KRINGLOOP_DELIVERY_BACKOFF": "0",
            "KRINGLOOP_DELIVERY_ATTEMPTS": "3",
        }.items():
            monkeypatch.setenv(name, value)
        runtime.close()
        yield smtp


@pytest.fixture
def scheduled(mailbox: TestSMTP, run: Run) -> Run:
    checked_programme(run)
    return run


def subscribe(identity: str, **fields: object) -> None:
    reads = runtime.read_store().engine
    store.create_tables(reads)
    store.subscribe(reads, identity, "board", **fields)


def overdue(run: Run) -> None:
    initiative_at(run, Stage.PRECONDITION_FULFILMENT, initiative_id="late")
    run(
        "register-precondition",
        initiative_id="late",
        precondition="vergunning",
        kind="permit",
        responsible="Omgevingsdienst",
        due="2017-01-01",
    )


def test_the_deadlines_flow_mails_the_initiative_s_broker_in_dutch(
    mailbox: TestSMTP, scheduled: Run
) -> None:
    overdue(scheduled)
    subscribe(BROKER, email="anna@gemeente.test")
    subscribe("someone-else", email="else@gemeente.test")
    escalate_deadlines(stalled_days=90, today=TODAY)
    done = deliver_notifications(today=TODAY)
    assert (done["queued"], done["sent"], done["failed"]) == (1, 1, 0), done
    (mail,) = mailbox.received
    assert mail["To"] == "anna@gemeente.test"
    assert mail["From"] == "programmabureau@kringloop.test"
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://kringloop.test/initiatives/late" in text
    assert "vergunning" in text
    assert "voorwaarde" in (mail["Subject"] + text).lower(), "in Dutch by default"
    again = deliver_notifications(today=TODAY)
    assert (again["queued"], again["sent"]) == (0, 0)
    assert len(mailbox.received) == 1, "sent once"


def test_the_monday_digest_is_sent_once_per_week(mailbox: TestSMTP, scheduled: Run) -> None:
    subscribe("board", email="bureau@board.test", language="en")
    subscribe("mallory", email="mallory@example.test", digest=True)  # in no register
    monday = TODAY - timedelta(days=TODAY.weekday())
    first = send_weekly_digest(programme_id=PROGRAMME, today=monday)
    second = send_weekly_digest(programme_id=PROGRAMME, today=monday)
    assert first["digest"] == second["digest"]
    assert (first["sent"], second["sent"]) == (1, 0)
    assert [m["To"] for m in mailbox.received] == ["bureau@board.test"], "not to mallory"
    assert "Week" in mailbox.received[0]["Subject"] or "week" in mailbox.received[0]["Subject"]
    send_weekly_digest(programme_id=PROGRAMME, today=monday + timedelta(days=7))
    assert len(mailbox.received) == 2, "the next week's"


@pytest.fixture
def receiver(mailbox: TestSMTP) -> Iterator[Receiver]:
    with running_receiver(SECRET, fail_first=2) as started:
        yield started


def test_a_webhook_failing_twice_is_delivered_once_on_the_third_try(
    receiver: Receiver, scheduled: Run
) -> None:
    overdue(scheduled)
    subscribe(BROKER, webhook_url=receiver.url)
    escalate_deadlines(stalled_days=90, today=TODAY)
    tries = [deliver_notifications(today=TODAY) for _ in range(3)]
    assert [(t["sent"], t["retrying"]) for t in tries] == [(0, 1), (0, 1), (1, 0)]
    ((webhook_id, payload),) = receiver.received
    assert receiver.attempts == 3
    assert set(receiver.seen) == {webhook_id}, "every try carried the same id"
    assert (payload["type"], payload["initiative"]) == ("overdue-precondition", "late")
    (sent,) = store.messages(runtime.read_store().engine, "sent")
    assert sent.attempts == 3
    attempts = store.attempts_of(runtime.read_store().engine, sent.id)
    assert [a.outcome for a in attempts] == ["failed", "failed", "sent"]


def test_a_receiver_that_stays_down_is_given_up_and_holds_up_nothing(
    mailbox: TestSMTP, scheduled: Run
) -> None:
    with running_receiver(SECRET) as receiver:
        given_up_then_retried(mailbox, receiver, scheduled)


def given_up_then_retried(mailbox: TestSMTP, receiver: Receiver, scheduled: Run) -> None:
    overdue(scheduled)
    receiver.down()
    subscribe(BROKER, webhook_url=receiver.url, email="anna@gemeente.test")
    escalate_deadlines(stalled_days=90, today=TODAY)
    first = deliver_notifications(today=TODAY)
    assert (first["sent"], first["retrying"]) == (1, 1), "the mail went at once"
    for _ in range(2):
        deliver_notifications(today=TODAY)
    reads = runtime.read_store().engine
    (failed,) = store.messages(reads, "failed")
    assert (failed.channel, failed.attempts) == ("webhook", 3)
    assert "refused" in failed.last_error.lower() or "connect" in failed.last_error.lower()
    assert len(mailbox.received) == 1
    assert store.retry(reads, failed.id) is not None
    receiver.up()
    assert deliver_notifications(today=TODAY)["sent"] == 1, "retried by hand, delivered"
    attempts = store.attempts_of(reads, failed.id)
    assert [a.outcome for a in attempts] == ["failed"] * 3 + ["sent"], "the log goes on"
    assert [payload["type"] for _, payload in receiver.received] == ["overdue-precondition"]


@pytest.mark.slow
def test_on_the_demo_data_each_overdue_precondition_is_mailed_to_its_broker_in_dutch(
    mailbox: TestSMTP, home: Path
) -> None:
    kringloop(home, "demo", "--fresh", "--json")
    runtime.close()
    addresses = {"broker-anna": "anna@mra.test", "broker-bas": "bas@mra.test"}
    for broker, address in addresses.items():
        subscribe(broker, email=address)
    escalated = escalate_deadlines(stalled_days=90)
    assert escalated["refused"] == 0, escalated["refusals"]
    delivered = deliver_notifications()
    assert delivered["failed"] == 0, delivered
    reads = runtime.read_store()
    today = today_in_programme_tz()
    brokers = {s.id: s.broker for s in queries.list_initiatives(reads, today)}
    expected = {
        (addresses[brokers[p.initiative_id]], p.initiative_id)
        for p in queries.register(reads, today, overdue=True)
    }
    assert expected, "the demo has overdue preconditions"
    overdue_mails = [  # a long subject is folded before it: strip the fold's space
        m for m in mailbox.received if m["Subject"].strip().startswith("Randvoorwaarde")
    ]
    found = set()
    for mail in overdue_mails:
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        (initiative,) = {i for _, i in expected if f"/initiatives/{i}" in text}
        found.add((mail["To"], initiative))
        assert "vervuld" in text, "in Dutch"
    assert found == expected
    assert len(overdue_mails) == len(expected), "one mail each"


def test_forming_a_consortium_notifies_each_member_s_contacts(
    receiver: Receiver, scheduled: Run
) -> None:
    """The form-consortium flow delivers at once; a run started again after a lost one
    finds the consortium formed and sends nothing twice."""
    initiative_at(scheduled, Stage.PRECONDITION_FULFILMENT)
    for command, fields in (
        ("fulfil-precondition", {"precondition": "volume", "evidence": ["c.pdf"]}),
        ("waive-precondition", {"precondition": "offtake"}),
        ("admit-member", {"organisation": "GrassFibre", "role": "lead"}),
        ("admit-member", {"organisation": "Port of Amsterdam", "role": "other"}),
        ("declare-no-arrangement", {}),
    ):
        scheduled(command, initiative_id="grass", effective="2016-10-01", **fields)
    for identity, organisation in (
        ("grassfibre-office", "GrassFibre"),
        ("port-office", "Port of Amsterdam"),
    ):
        scheduled(
            "grant-role",
            identity=identity,
            role="organisation",
            organisation=organisation,
            actor="board",
            effective="2016-01-01",
        )
        subscribe(identity, webhook_url=receiver.url)
    receiver.fail_first = 0
    result = form_consortium(
        initiative_id="grass", actor="broker-anna", reason="all met", effective=TODAY
    )
    assert result["notified"] == ["grassfibre-office", "port-office"]
    assert sorted(p["recipient"] for _, p in receiver.received) == result["notified"]
    assert {p["type"] for _, p in receiver.received} == {"consortium-formed"}
    again = form_consortium(
        initiative_id="grass", actor="broker-anna", reason="all met", effective=TODAY
    )
    assert again == result, "a new run finds the consortium formed"
    assert len(receiver.received) == 2, "and sends nothing twice"


def test_a_failing_host_costs_one_try_a_run_not_one_a_message(scheduled: Run) -> None:
    monday = TODAY - timedelta(days=TODAY.weekday())
    scheduled(
        "grant-role", identity=BROKER, role="broker", actor="board", effective="2015-02-01"
    )  # a digest goes to the register's identities only
    with running_receiver(SECRET) as receiver:
        receiver.down()
        subscribe("board", webhook_url=receiver.url)
        subscribe(BROKER, webhook_url=receiver.url, digest=True)  # holds a role: may
        first = send_weekly_digest(programme_id=PROGRAMME, today=monday)
        assert (first["queued"], first["retrying"], first["deferred"]) == (2, 1, 1)
        receiver.up()
        second = deliver_notifications(today=monday)
        assert (second["sent"], second["deferred"]) == (2, 0)
    reads = runtime.read_store().engine
    tries = sorted(len(store.attempts_of(reads, m.id)) for m in store.messages(reads, "sent"))
    assert tries == [1, 2], "the deferred one was tried once, when the host was back"
    assert sorted(p["recipient"] for _, p in receiver.received) == ["board", BROKER]


@pytest.fixture
def wrong_password(mailbox: TestSMTP, monkeypatch: pytest.MonkeyPatch) -> str:
    """The mail server's login refused: a wrong password set before the flows open."""
    monkeypatch.setenv("KRINGLOOP_SMTP_PASSWORD", "wrong-password-42")
    runtime.close()
    return "wrong-password-42"


def test_no_secret_reaches_the_logs(wrong_password: str, scheduled: Run) -> None:
    """A wrong SMTP password, the webhook secret and a token in a receiver's address stay
    out of the log lines of failed deliveries."""
    from structlog.testing import capture_logs

    overdue(scheduled)
    with running_receiver(SECRET) as receiver:
        receiver.down()
        address = f"{receiver.url}?token=receiver-token-42"
        subscribe(BROKER, webhook_url=address, email="anna@gemeente.test")
        escalate_deadlines(stalled_days=90, today=TODAY)
        with capture_logs() as logs:
            done = deliver_notifications(today=TODAY)
    assert (done["failed"], done["retrying"]) == (1, 1), done  # the login for good, the hook
    said = repr(logs)
    assert "notification not delivered" in said
    for secret in (wrong_password, SECRET, "receiver-token-42"):
        assert secret not in said


def test_a_retry_goes_to_the_address_subscribed_now(scheduled: Run) -> None:
    overdue(scheduled)
    with running_receiver(SECRET) as wrong, running_receiver(SECRET) as right:
        wrong.down()
        subscribe(BROKER, webhook_url=wrong.url)
        escalate_deadlines(stalled_days=90, today=TODAY)
        for _ in range(3):
            deliver_notifications(today=TODAY)
        reads = runtime.read_store().engine
        (failed,) = store.messages(reads, "failed")
        subscribe(BROKER, webhook_url=right.url)  # the broker corrects the address
        store.retry(reads, failed.id)
        assert deliver_notifications(today=TODAY)["sent"] == 1
        assert [p["type"] for _, p in right.received] == ["overdue-precondition"]
        (sent,) = store.messages(reads, "sent")
        assert sent.address == right.url


def test_the_digest_names_what_is_overdue(mailbox: TestSMTP, scheduled: Run) -> None:
    overdue(scheduled)
    subscribe("board", email="bureau@board.test", language="en")
    send_weekly_digest(programme_id=PROGRAMME, today=TODAY)
    (mail,) = mailbox.received
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "vergunning" in text, "the overdue precondition itself, not the status"


def test_ready_to_scale_up_is_news_only_before_scaling_up(scheduled: Run) -> None:
    subscribe(BROKER, webhook_url="http://127.0.0.1:9/unused")
    for initiative, stage in (("grass", Stage.BOARD_WITHDRAWN), ("done", Stage.SCALED_UP)):
        initiative_at(scheduled, stage, initiative_id=initiative)
        scheduled(
            "assess-scale-up",
            initiative_id=initiative,
            ready=True,
            criteria="met: everything",
            figures={},
            actor="scheduler:phase-3-check",
            effective=TODAY.isoformat(),
        )
    deliver_notifications(today=TODAY)
    made = store.messages(runtime.read_store().engine)
    assert [json.loads(m.data)["outcome"] for m in made] == ["ready"]
    assert {m.kind for m in made} == {"scale-up-assessed"}
    (only,) = made
    grass = runtime.engine().initiative("grass")
    assert only.record == grass.id.hex, "not the one scaled up already"
