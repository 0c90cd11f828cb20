"""`kringloop notifications` as a user meets it: what may be set by whom, bad input refused
in words (nothing stored), a failed message listed and put back by its short id."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import as_json, kringloop


def test_subscriptions_are_set_by_their_owner_or_a_manager(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    base = ("notifications", "subscribe", "broker-anna")
    other = kringloop(tmp_path, *base, "--email", "a@b.nl", "--actor", "broker-bas", ok=False)
    assert other.returncode == 1
    assert "may set only their own notifications" in other.stderr
    unknown = kringloop(
        tmp_path,
        "notifications",
        "subscribe",
        "mallory",
        "--email",
        "m@x.nl",
        "--actor",
        "mallory",
        "--json",
        ok=False,
    )
    assert "mallory is not in the authority register" in as_json(unknown)["message"]
    for bad, said in (
        (("--email", "anna at gemeente"), "not an e-mail address"),
        (("--webhook", "ftp://example.nl/hook"), "not an http(s) address"),
        (("--kinds", "stalled,gossip"), "unknown kinds: gossip"),
        (("--language", "de"), "nl or en"),
    ):
        refused = kringloop(tmp_path, *base, *bad, "--actor", "broker-anna", "--json", ok=False)
        assert refused.returncode == 1
        assert said in as_json(refused)["message"]
    own = as_json(
        kringloop(
            tmp_path,
            *base,
            "--email",
            "anna@gemeente.nl",
            "--kinds",
            "stalled",
            "--actor",
            "broker-anna",
            "--json",
        )
    )
    assert (own["email"], own["kinds"], own["updated_by"]) == (
        "anna@gemeente.nl",
        "stalled",
        "broker-anna",
    )
    by_manager = as_json(
        kringloop(tmp_path, *base, "--email", "", "--actor", "board-secretariat", "--json")
    )
    assert (by_manager["email"], by_manager["kinds"]) == (None, "stalled"), "'' stops mail"
    (listed,) = as_json(kringloop(tmp_path, "notifications", "subscriptions", "--json"))
    assert (listed["identity"], listed["updated_by"]) == ("broker-anna", "board-secretariat")
    other = ("notifications", "unsubscribe", "broker-anna", "--actor", "broker-bas", "--json")
    assert kringloop(tmp_path, *other, ok=False).returncode == 1, "not someone else's"
    gone = ("notifications", "unsubscribe", "broker-anna", "--actor", "broker-anna", "--json")
    assert as_json(kringloop(tmp_path, *gone))["unsubscribed"] is True
    assert as_json(kringloop(tmp_path, "notifications", "subscriptions", "--json")) == []
    assert as_json(kringloop(tmp_path, *gone))["unsubscribed"] is False


def test_a_failed_notification_is_listed_and_put_back(tmp_path: Path) -> None:
    kringloop(tmp_path, "demo", "--fresh", "--scenario", "first-steps", "--json")
    kringloop(
        tmp_path,
        "notifications",
        "subscribe",
        "board-secretariat",
        "--email",
        "bureau@mra.nl",
        "--actor",
        "board-secretariat",
    )
    kringloop(tmp_path, "notifications", "digest", "--today", "2026-11-30")
    done = as_json(
        kringloop(tmp_path, "notifications", "deliver", "--today", "2026-11-30", "--json")
    )
    assert (done["queued"], done["failed"]) == (1, 1), "no mail server set: refused for good"
    (failed,) = as_json(
        kringloop(tmp_path, "notifications", "list", "--status", "failed", "--json")
    )
    assert "no SMTP server" in failed["last_error"]
    back = as_json(kringloop(tmp_path, "notifications", "retry", failed["id"][:12], "--json"))
    assert (back["id"], back["status"], back["attempts"]) == (failed["id"], "pending", 0)
    unknown = kringloop(tmp_path, "notifications", "retry", "ffffffffffff", "--json", ok=False)
    assert as_json(unknown)["error"] == "not_found"
    short = kringloop(tmp_path, "notifications", "retry", "", "--json", ok=False)
    assert "at least its first 6 characters" in as_json(short)["message"]
    nope = kringloop(tmp_path, "notifications", "digest", "--programme", "nope", ok=False)
    assert "no programme nope" in nope.stderr
    ahead = kringloop(tmp_path, "notifications", "digest", "--today", "2999-01-04", ok=False)
    assert ahead.returncode == 1


def test_a_setting_that_does_not_read_is_named_not_a_traceback(tmp_path: Path) -> None:
    for env, said in (
        (
            {"KRINGLOOP_SMTP_STARTTLS": ""},
            "KRINGLOOP_SMTP_STARTTLS: Input should be a valid boolean",
        ),
        ({"KRINGLOOP_WITNESS_URL": "http://127.0.0.1:9"}, "needs KRINGLOOP_WITNESS_KEY"),
    ):
        done = kringloop(tmp_path, "notifications", "list", env=env, ok=False)
        assert done.returncode == 1
        assert said in done.stderr
        assert "Traceback" not in done.stderr
